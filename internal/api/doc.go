// Package api is the REST interface under /api/v1/: a thin adapter that
// authenticates the bearer token, bounds bodies and request rates, decodes
// JSON and maps internal/access results and errors to HTTP. Every rule
// about who may do what lives in internal/access, not here.
//
// The routes are listed once (routes.go); openapi.json describes them and
// a test keeps the two in step.
package api
