package config

// Metrics configures the Prometheus metrics: where they are served.
type Metrics struct{}
