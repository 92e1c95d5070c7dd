package main

import (
	"fmt"
	"os"
)

// corednsPeer: CoreDNS with the file plugin only (no log or errors plugin:
// nothing per query) and GOMAXPROCS=1.
func corednsPeer(env *environment) *peer {
	return &peer{
		name: "coredns", binary: env.coredns,
		versionArgs: []string{"-version"}, versionRe: `CoreDNS-(\S+)`,
		env: []string{"GOMAXPROCS=1"},
		configure: func(i *instance) ([]string, error) {
			conf := fmt.Sprintf("%s:%d {\n\tbind 127.0.0.1\n\tfile %s %s\n}\n", zoneName, i.port, i.zoneFile, zoneName)
			if err := os.WriteFile(i.path("Corefile"), []byte(conf), 0o644); err != nil {
				return nil, err
			}
			return []string{"-conf", i.path("Corefile")}, nil
		},
	}
}
