package main

import (
	"fmt"
	"os"
)

// bindPeer: BIND 9 (named -g: foreground, log to stderr) with one worker
// thread (-n 1) and one UDP listener (-U 1), without a control channel.
func bindPeer() *peer {
	return &peer{
		name: "bind", binary: "named", pkg: "bind9",
		versionArgs: []string{"-v"}, versionRe: `BIND (\S+)`,
		configure: func(i *instance) ([]string, error) {
			conf := fmt.Sprintf(`options {
	directory %q;
	pid-file %q;
	session-keyfile %q;
	listen-on port %d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	notify no;
	allow-transfer { none; };
	dnssec-validation no;
	querylog no;
};
controls { };
zone %q {
	type primary;
	file %q;
};
`, i.dir, i.path("named.pid"), i.path("session.key"), i.port, zoneName, i.zoneFile)
			if err := os.WriteFile(i.path("named.conf"), []byte(conf), 0o644); err != nil {
				return nil, err
			}
			return []string{"-g", "-n", "1", "-U", "1", "-c", i.path("named.conf")}, nil
		},
	}
}
