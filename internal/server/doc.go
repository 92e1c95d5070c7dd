// Package server wires a running Stratus together for `stratus serve`: the
// store, the control plane and its snapshot publisher, the DNS listeners
// and the HTTP API, started in dependency order and stopped in reverse.
package server
