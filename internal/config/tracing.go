package config

// Tracing configures OpenTelemetry traces: off by default.
type Tracing struct{}
