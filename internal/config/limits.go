package config

import (
	"fmt"
	"time"
)

// TSIG bounds what requests signed with TSIG (RFC 8945) may ask for.
type TSIG struct {
	// MaxFudge is the largest clock skew a signed request may allow
	// itself (its Fudge); one that allows more is refused with BADTIME
	// (default 5m).
	MaxFudge time.Duration `yaml:"max_fudge"`
	// ReplayCache is how many signed UPDATE and NOTIFY requests are
	// remembered while they could be replayed (default 65536).
	ReplayCache int `yaml:"replay_cache"`
}

// MaxTSIGFudge is the largest tsig.max_fudge: the Fudge field holds 16
// bits of seconds.
const MaxTSIGFudge = 65535 * time.Second

// checkLimits checks the tsig section and the zones section's record
// limits.
func (c *Config) checkLimits() error {
	if f := c.TSIG.MaxFudge; f != 0 && (f < time.Second || f > MaxTSIGFudge || f%time.Second != 0) {
		return fmt.Errorf("tsig.max_fudge: %v is not whole seconds in 1s..%v", f, MaxTSIGFudge)
	}
	if c.TSIG.ReplayCache < 0 {
		return fmt.Errorf("tsig.replay_cache: must not be negative")
	}
	if c.Zones.MaxRecords < 0 || c.Zones.MaxGeneratedRecords < 0 {
		return fmt.Errorf("zones: max_records and max_generated_records must not be negative")
	}
	return nil
}
