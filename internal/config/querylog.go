package config

import (
	"fmt"
	"time"
)

// QueryLog configures the JSON query log: off by default. Each answered
// query sampled is one line of JSON (README.md, "Query log").
type QueryLog struct {
	// Enabled turns it on (default off).
	Enabled bool `yaml:"enabled"`
	// Output is a file path, or "stdout" (default stdout).
	Output string `yaml:"output"`
	// MaxSizeMB rotates the file before it passes this many megabytes
	// (default 100); MaxBackups is the number of rotated files kept (0:
	// all, within max_age); MaxAge removes rotated files older than this
	// (0: none removed for age).
	MaxSizeMB  int           `yaml:"max_size_mb"`
	MaxBackups int           `yaml:"max_backups"`
	MaxAge     time.Duration `yaml:"max_age"`
	// SampleRate is the part of the queries logged, 0..1 (default 1);
	// each reader logs floor(n*rate) of its first n queries.
	SampleRate *float64 `yaml:"sample_rate"`
	// Anonymize cuts client addresses to their network (default on);
	// IPv4Prefix and IPv6Prefix are its lengths (default 24 and 48).
	Anonymize  *bool `yaml:"anonymize"`
	IPv4Prefix int   `yaml:"ipv4_prefix"`
	IPv6Prefix int   `yaml:"ipv6_prefix"`
}

// Query log defaults and bounds.
const (
	DefaultQueryLogMaxSizeMB  = 100
	DefaultQueryLogIPv4Prefix = 24
	DefaultQueryLogIPv6Prefix = 48
	// MinQueryLogSampleRate is the smallest rate other than 0: the
	// readers count in millionths.
	MinQueryLogSampleRate = 0.000001
)

// Rate returns the sample rate (default 1).
func (q *QueryLog) Rate() float64 {
	if q.SampleRate == nil {
		return 1
	}
	return *q.SampleRate
}

// Anonymized reports whether client addresses are cut to their network.
func (q *QueryLog) Anonymized() bool { return q.Anonymize == nil || *q.Anonymize }

// Prefixes returns the IPv4 and IPv6 prefix lengths addresses are cut to.
func (q *QueryLog) Prefixes() (v4, v6 int) {
	v4, v6 = q.IPv4Prefix, q.IPv6Prefix
	if v4 == 0 {
		v4 = DefaultQueryLogIPv4Prefix
	}
	if v6 == 0 {
		v6 = DefaultQueryLogIPv6Prefix
	}
	return v4, v6
}

// Path returns the output: a file path, or "stdout".
func (q *QueryLog) Path() string {
	if q.Output == "" {
		return "stdout"
	}
	return q.Output
}

// SizeMB returns max_size_mb with its default.
func (q *QueryLog) SizeMB() int {
	if q.MaxSizeMB == 0 {
		return DefaultQueryLogMaxSizeMB
	}
	return q.MaxSizeMB
}

func (q *QueryLog) check() error {
	if r := q.SampleRate; r != nil && (*r < MinQueryLogSampleRate || *r > 1) {
		return fmt.Errorf("query_log.sample_rate: %v is outside %v..1", *r, MinQueryLogSampleRate)
	}
	if q.MaxSizeMB < 0 || q.MaxBackups < 0 || q.MaxAge < 0 {
		return fmt.Errorf("query_log: max_size_mb, max_backups and max_age must not be negative")
	}
	if p := q.IPv4Prefix; p < 0 || p > 32 {
		return fmt.Errorf("query_log.ipv4_prefix: %d is outside 0..32", p)
	}
	if p := q.IPv6Prefix; p < 0 || p > 128 {
		return fmt.Errorf("query_log.ipv6_prefix: %d is outside 0..128", p)
	}
	return nil
}
