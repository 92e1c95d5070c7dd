// Package dnsserver runs the DNS listeners (UDP and TCP) and the per-query
// pipeline: parse the request (dnswire), look the question up in the
// current zone snapshot (zone), write the response (dnswire).
//
// The pipeline reads the snapshot through one atomic load per query and
// holds no locks; it never touches the store or the control plane, and it
// logs nothing per query. Each UDP reader and each TCP connection owns its
// buffers, so a steady stream of queries allocates nothing.
package dnsserver
