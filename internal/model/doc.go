// Package model holds Stratus's domain types and their validation: canonical
// domain names, resource record sets in wire form, zone settings, changes
// and serial numbers.
//
// Record data is kept as uncompressed wire-format RDATA everywhere below the
// edges (store, snapshot, journal). Text is parsed once at the edge (API, zone
// files) and formatted once on the way out; github.com/miekg/dns does both,
// and this package is one of the few that import it.
//
// Validation errors are *Error values that name the offending field, so the
// API can return them as 400 responses and the CLI can print them.
package model
