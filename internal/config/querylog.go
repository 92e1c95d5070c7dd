package config

// QueryLog configures the JSON query log: off by default.
type QueryLog struct{}
