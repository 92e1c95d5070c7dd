// Package api serves Stratus's versioned JSON HTTP API (/v1/...): zones,
// RRsets, zone files, journals and tokens. Every request needs a bearer
// token; each route names the scope it requires.
//
// Handlers decode and validate input strictly (unknown JSON fields are
// errors), call the control plane, and return an error or a value; one
// function (writeError) turns errors into responses, so every failure has
// the same JSON shape (apiv1.ErrorResponse) with a status, a code, a
// message and, for bad input, the field at fault. The routes are listed
// once (routes.go); a test keeps the OpenAPI document served at
// /v1/openapi.json in step with them.
package api
