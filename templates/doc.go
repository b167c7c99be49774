// Package templates owns email templates: the model, validation on save,
// rendering with personalisation (html/template for HTML, text/template for
// subject and text), link rewriting for click tracking, the open pixel and
// unsubscribe insertion, the plain-text fallback, and previews.
package templates
