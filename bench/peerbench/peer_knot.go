package main

import (
	"os"

	"github.com/stratusdns/stratus/internal/testutil"
)

// knotPeer: Knot DNS with one UDP, one TCP and one background worker. It
// has no health steering; in the steered workload it answers the steered
// names from static A records, the reference the steered rows are
// compared with.
func knotPeer() *peer {
	return &peer{
		name: "knot", binary: "knotd", pkg: "knot",
		versionArgs: []string{"--version"}, versionRe: `version (\S+)`,
		steeredRecords: func(*instance) string { return staticSteeredRecords() },
		configure: func(i *instance) ([]string, error) {
			conf := testutil.KnotConfig{Port: i.port, Dir: i.dir, LogLevel: "warning", Domain: zoneName, ZoneFile: i.zoneFile}.String()
			if err := os.WriteFile(i.path("knot.conf"), []byte(conf), 0o644); err != nil {
				return nil, err
			}
			return []string{"-c", i.path("knot.conf")}, nil
		},
	}
}
