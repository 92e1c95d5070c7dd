package main

import (
	"fmt"
	"os"
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
			conf := fmt.Sprintf(`server:
    listen: 127.0.0.1@%d
    rundir: %q
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: %q
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: %q
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
zone:
  - domain: %s
    file: %q
`, i.port, i.dir, i.path("db"), i.dir, zoneName, i.zoneFile)
			if err := os.WriteFile(i.path("knot.conf"), []byte(conf), 0o644); err != nil {
				return nil, err
			}
			return []string{"-c", i.path("knot.conf")}, nil
		},
	}
}
