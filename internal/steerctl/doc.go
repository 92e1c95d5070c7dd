// Package steerctl keeps the steering state current: it holds the services
// and endpoints the control plane publishes, tells the health checker what
// to check, flattens hostnames for services that answer addresses (ALIAS),
// times lease lapses and cold-start waits, and compiles a new
// steer.Snapshot — swapped in with one atomic store — whenever any of it
// changes. The DNS query path reads only that snapshot.
package steerctl
