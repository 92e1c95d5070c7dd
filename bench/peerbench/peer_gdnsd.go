package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// gdnsdPeer: gdnsd with one UDP and one TCP thread. Steering: the
// failover name is a metafo resource over two datacenters (the pools),
// each a multifo set of its endpoints, so the backup is answered only
// when the primary pool is down (multifo alone answers every address that
// is up: all-active, not failover); the weighted name is a weighted
// resource. Both are checked by an http_status service type every 2 s
// (gdnsd refuses intervals under 2 s, whatever its manual says), two
// results in a row to change state, like Stratus's fall and rise.
func gdnsdPeer() *peer {
	return &peer{
		name: "gdnsd", binary: "gdnsd", pkg: "gdnsd", steering: true,
		steerNote:   "health checks every 2 s (its minimum); the others check every 1 s",
		versionArgs: nil, versionRe: `gdnsd version (\S+)`,
		steeredRecords: func(*instance) string {
			return fmt.Sprintf("%s 20 DYNA metafo!fo\n%s 20 DYNA weighted!wt\n", relative(failoverName), relative(weightedName))
		},
		configure: func(i *instance) ([]string, error) {
			if err := os.MkdirAll(i.path("zones"), 0o755); err != nil {
				return nil, err
			}
			link := filepath.Join(i.path("zones"), strings.TrimSuffix(zoneName, "."))
			os.Remove(link)
			if err := os.Symlink(i.zoneFile, link); err != nil {
				return nil, err
			}
			var b strings.Builder
			fmt.Fprintf(&b, `options => {
  listen => [ 127.0.0.1:%d ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => %q
  state_dir => %q
}
`, i.port, i.path("run"), i.path("state"))
			if i.steer != nil {
				fmt.Fprintf(&b, `service_types => {
  bench_http => {
    plugin => http_status, port => %d, url_path => %s,
    interval => 2, timeout => 1, up_thresh => 2, ok_thresh => 2, down_thresh => 2
  }
}
plugins => {
  metafo => {
    service_types => bench_http
    resources => {
      fo => {
        datacenters => [ primary, backup ]
        dcmap => {
`, i.steer.healthPort, healthPath)
				for _, pool := range []string{"primary", "backup"} {
					fmt.Fprintf(&b, "          %s => {", pool)
					for _, e := range failoverEndpoints {
						if e.pool == pool {
							fmt.Fprintf(&b, " %s => %s", e.id, e.addr)
						}
					}
					b.WriteString(" }\n")
				}
				b.WriteString("        }\n      }\n    }\n  }\n  weighted => {\n    service_types => bench_http\n    wt => {\n")
				for _, e := range weightedEndpoints {
					fmt.Fprintf(&b, "      %s => [ %s, %d ]\n", e.id, e.addr, e.weight)
				}
				b.WriteString("    }\n  }\n}\n")
			}
			if err := os.WriteFile(i.path("config"), []byte(b.String()), 0o644); err != nil {
				return nil, err
			}
			return []string{"-c", i.dir, "start"}, nil
		},
	}
}
