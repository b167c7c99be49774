// Package apidoc is Peykar's API reference: an OpenAPI 3.1 document for
// every /api/v1 operation (openapi.yaml, embedded and served as JSON at
// GET /api/v1/openapi.json) and a page that renders it at /admin/api with a
// vendored copy of Redoc (assets/redoc, MIT licence, no CDN).
//
// The document is written by hand from the handlers and their types; a test
// in cmd/peykar compares it with the real Echo route table, so a route added
// without documentation (or documentation left for a removed route) fails
// the build with the list of operations to fix.
package apidoc
