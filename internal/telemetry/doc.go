// Package telemetry holds what Stratus tells the tools operators already
// run about itself: the Prometheus registry every package registers its
// metrics with (names stratus_<subsystem>_<name>_<unit>, bounded label
// sets), and the build information exported with them.
//
// Packages own their metrics: each defines its collectors beside the code
// that counts, and registers them with the prometheus.Registerer it is
// given; a nil Registerer means the metrics are not exported.
//
// Traces: Start begins a span on the tracer StartTracing set up from the
// tracing config (OTLP/HTTP export, parent-based sampling); with tracing
// off it records nothing and costs one atomic load. NoteSerial and
// SerialSpan carry a change's span to the NOTIFY sent for its serial.
package telemetry
