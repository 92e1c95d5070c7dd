package main

import (
	"fmt"
	"os"
	"strings"
)

// nsdPeer: NSD with one server process (it forks a transfer daemon and
// the server child besides the main process: CPU and memory are summed
// over the tree), response rate limiting off (Debian's build enables it,
// at 200 queries a second per client and answer) and minimal responses
// (no NS in the authority section of answers, as the others).
func nsdPeer() *peer {
	return &peer{
		name: "nsd", binary: "nsd", pkg: "nsd",
		versionArgs: []string{"-v"}, versionRe: `NSD version (\S+)`,
		configure: func(i *instance) ([]string, error) {
			conf := fmt.Sprintf(`server:
    ip-address: 127.0.0.1@%d
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: %q
    database: ""
    zonelistfile: %q
    xfrdfile: %q
    xfrdir: %q
    pidfile: %q
    verbosity: 0
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    minimal-responses: yes
remote-control:
    control-enable: no
zone:
    name: %s
    zonefile: %q
`, i.port, i.dir, i.path("zone.list"), i.path("xfrd.state"), i.dir, i.path("nsd.pid"), zoneName, i.zoneFile)
			path := i.path("nsd.conf")
			if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
				return nil, err
			}
			// Make sure rate limiting is really off as the server reads it.
			for _, opt := range []string{"rrl-ratelimit", "rrl-whitelist-ratelimit"} {
				out, err := run("nsd-checkconf", "-o", opt, path)
				if err != nil {
					return nil, err
				}
				if v := strings.TrimSpace(out); v != "0" {
					return nil, fmt.Errorf("nsd-checkconf: %s is %q, want 0", opt, v)
				}
			}
			return []string{"-d", "-c", path}, nil
		},
	}
}
