package api

// ProbeRoutes are the routes served beside the API on its listener, by
// the server, with no token and outside /v1: liveness and readiness. They
// are described in openapi.json with the API's own.
var ProbeRoutes = []string{"GET /healthz", "GET /readyz"}
