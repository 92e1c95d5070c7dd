package config

import (
	"strings"
	"testing"
	"time"
)

func TestLimits(t *testing.T) {
	c, err := Parse("t.yaml", []byte("tsig:\n  max_fudge: 10m\n  replay_cache: 10\nzones:\n  max_records: 7\n  max_generated_records: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.TSIG.MaxFudge != 10*time.Minute || c.TSIG.ReplayCache != 10 || c.Zones.MaxRecords != 7 || c.Zones.MaxGeneratedRecords != 3 {
		t.Errorf("parsed %+v %+v", c.TSIG, c.Zones)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"tsig:\n  max_fudge: 1500ms\n", "tsig.max_fudge: 1.5s is not whole seconds in 1s..18h12m15s"},
		{"tsig:\n  max_fudge: 24h\n", "tsig.max_fudge: 24h0m0s is not whole seconds"},
		{"tsig:\n  replay_cache: -1\n", "tsig.replay_cache: must not be negative"},
		{"zones:\n  max_records: -1\n", "zones: max_records and max_generated_records must not be negative"},
		{"zones:\n  max_generated_records: -5\n", "zones: max_records and max_generated_records must not be negative"},
	} {
		_, err := Parse("t.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}
