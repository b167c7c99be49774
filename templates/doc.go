// Package templates owns email templates: the model, validation on save,
// rendering with personalisation (html/template for HTML, text/template for
// subject and text), link rewriting for click tracking, the open pixel,
// honeypot and unsubscribe insertion, the plain-text fallback, previews and
// test sends.
//
// # What a template sees
//
// A template executes against [Data]:
//
//	{{ .Contact.Name }} {{ .Contact.Email }} {{ .Contact.ID }} {{ .Contact.Tags }}
//	{{ .Contact.CreatedAt }} {{ .Campaign.Name }} {{ .Campaign.ID }}
//	{{ .Data.order_id }}
//
// .Data is a transactional message's own data (POST /api/v1/messages);
// previews, test sends and the checks on save fill the keys the template
// reads with "sample" ([Compiled.SampleData]).
//
// HTML is escaped by context (a name holding <script> is text in a
// paragraph, an attribute value in an attribute, query-escaped in a URL);
// the subject and the text part are not HTML and are not escaped. The
// subject must render to one line.
//
// # Missing values
//
// Fields of Contact and Campaign always exist: a misspelt one
// ({{ .Contact.Nmae }}) is refused when the template is saved, with its line
// and column. Attributes are free-form, so which exist is known only per
// recipient. The rule is: a missing attribute renders only through a
// default; without one it is a render error that the sender records for
// that delivery (never an empty string nobody asked for).
//
//	{{ attr "city" "friend" }}                          the attribute, or "friend"
//	{{ attr "city" | default "friend" }}                the same, as a pipeline
//	{{ .Contact.Attributes.city | default "friend" }}   the same again
//	{{ attr "city" }}, {{ .Contact.Attributes.city }}   the attribute; an error when missing
//	{{ if .Contact.Attributes.vip }}, {{ if attr "vip" }}  a presence test: false when missing
//
// Compile rewrites direct reads (.Contact.Attributes.x, $.Contact.Attributes.x)
// into attr calls, so all spellings behave alike. An attribute that is null
// or an empty string counts as missing.
// default "x" replaces any empty value (nil, blank string, empty list or
// map; 0 and false are values): {{ .Contact.Name | default "friend" }}.
//
// # Helpers
//
//	date "2 Jan 2006" .Contact.CreatedAt   Go layout; time.Time or an RFC 3339 / YYYY-MM-DD string
//	number 2 (attr "balance" 0)           1,234.50
//	upper, lower, trim
//	unsubscribe_url                        the recipient's unsubscribe URL ("#" in previews)
//	.PreferencesURL                        the recipient's preference centre, /t/p/{token} ("#" in previews)
//
// Sub-templates ({{ define }}, {{ template }}, {{ block }}) are not
// supported, so a template cannot call itself.
//
// # Budgets
//
// Whatever a template says and whatever a recipient's data holds, one
// render is bounded while it runs, not by looking at the source. Each part
// (subject, HTML, text) has its own budget:
//
//   - at most [MaxRangeIterations] loop iterations, all {{ range }} loops
//     and nesting levels summed, whatever they range over (a number, a
//     variable, a list, a map, a function's result);
//   - at most [MaxLoopSteps] template steps run by loop bodies (each
//     iteration costs the nodes of its body);
//   - at most [MaxOutput] bytes of HTML or text, [MaxSubjectOutput] of
//     subject and [MaxLinkOutput] per personalised link;
//   - helpers that make strings (printf, print, println, html, js,
//     urlquery, upper, lower, date, number) refuse a value longer than
//     [MaxValueLen] before working on it (printf counts widths and
//     repeated arguments), and make at most [MaxHelperBytes] in all; a
//     value passed to a method (.Contact.CreatedAt.Format x) is held to
//     MaxValueLen too.
//
// A part that passes a budget fails with an Invalid *errs.Error wrapping
// [ErrBudget] that says what and where (`template "welcome" html: more
// than 10000 loop iterations, all loops summed (line 3)`). [Compile]
// renders the sample contact under the same budgets, so a template that
// passes one whatever the data is refused on save. [Compiled.RenderContext]
// also stops at the next loop iteration, helper call or write once its
// context is done.
//
// # Tracking
//
// [Compile] does the tracking work once: every <a href> with an http(s) URL
// is replaced by a call that yields the tracked URL, recording the link's
// position and name (data-peykar-name, else title, else its text or image
// alt) for [Compiled.Links]. mailto:, tel:, #fragments, other schemes,
// unsubscribe_url and links marked data-peykar-notrack are left alone. An
// href holding template actions is personalised: it is rendered per
// recipient (escaped exactly as in the document; inside range or with, per
// item, with that item as dot) and the result handed to [Tracker.ClickURL].
// A hidden honeypot link and the open pixel are placed before </body> (or
// at the end). [Compiled.Render] then only executes templates; a static
// link's URL is computed once per message for both the HTML and the text
// part. Links inside HTML comments (Outlook conditional comments included)
// are not tracked.
//
// # Plain text
//
// When a template has no text part, one is generated from the HTML at
// compile time: readable text with paragraphs and line breaks, list items
// as "- ", links as "text (tracked URL)", no tags, entities decoded, and the
// template actions kept in place so it is personalised like the HTML. In a
// text part the author wrote, URLs that the HTML also links (statically)
// are tracked as those links.
package templates
