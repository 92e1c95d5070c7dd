package testutil

import (
	"fmt"
	"path/filepath"
	"strings"
)

// KnotConfig is the configuration of a knotd serving one zone on
// loopback, as tests and benchmarks start it: one worker of each kind
// unless told otherwise, state under Dir, no semantic checks, no journal,
// the zone file loaded whole and never written back.
type KnotConfig struct {
	Port       int
	Dir        string // rundir; the database is Dir/db
	UDPWorkers int    // default 1
	LogLevel   string // default info
	// Sections are top-level sections written before the template (an
	// acl, mod-rrl, mod-cookies), as YAML lines.
	Sections string
	// Template and Zone are lines added to the default template and to
	// the zone, each indented by four spaces.
	Template, Zone []string
	Domain         string // with its final dot
	ZoneFile       string // made absolute
}

// String renders the configuration as knot.conf.
func (k KnotConfig) String() string {
	workers := k.UDPWorkers
	if workers <= 0 {
		workers = 1
	}
	level := k.LogLevel
	if level == "" {
		level = "info"
	}
	zf, err := filepath.Abs(k.ZoneFile)
	if err != nil {
		zf = k.ZoneFile
	}
	lines := func(ls []string) string {
		var b strings.Builder
		for _, l := range ls {
			b.WriteString("    " + l + "\n")
		}
		return b.String()
	}
	return fmt.Sprintf(`server:
    listen: 127.0.0.1@%d
    rundir: %q
    udp-workers: %d
    tcp-workers: 1
    background-workers: 1
database:
    storage: %q
log:
  - target: stderr
    any: %s
%stemplate:
  - id: default
    storage: %q
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
%szone:
  - domain: %s
    file: %q
%s`, k.Port, k.Dir, workers, filepath.Join(k.Dir, "db"), level, k.Sections, k.Dir, lines(k.Template), k.Domain, zf, lines(k.Zone))
}
