package config

// Dnstap configures dnstap output of queries and responses: off by default.
type Dnstap struct{}
