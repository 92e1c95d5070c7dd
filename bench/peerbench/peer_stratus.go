package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// stratusPeer: Stratus built from this repository, with GOMAXPROCS=1 and
// one UDP reader (dns.udp_readers: 1), its store in the instance
// directory. The zone is imported through the API with the CLI
// (`stratus zone import`), and the steered services are created with
// `stratus service create -f` and `stratus endpoint register`. name is the
// row: "stratus", built from the working tree, or "stratus-base", another
// binary to compare it with (-stratus-base).
func stratusPeer(env *environment, name, binary string) *peer {
	vars := []string{"GOMAXPROCS=1"}
	if env.opts != nil && env.opts.gctrace {
		vars = append(vars, "GODEBUG=gctrace=1,scavtrace=1")
	}
	return &peer{
		name: name, binary: binary, steering: true,
		versionArgs: []string{"version"}, versionRe: `version\s+(\S+)`,
		env: vars,
		configure: func(i *instance) ([]string, error) {
			conf := fmt.Sprintf(`dns:
  listen: ["127.0.0.1:%d"]
  udp_readers: 1
api:
  listen: 127.0.0.1:%d
log:
  level: warn
`, i.port, i.apiPort)
			// dnsperf asks from loopback far faster than any client
			// would: exempt it from response rate limiting, as the
			// other servers run without it.
			if hasRRL(binary) {
				conf = strings.Replace(conf, "  udp_readers: 1\n", "  udp_readers: 1\n  rrl:\n    exempt: [127.0.0.0/8]\n", 1)
			}
			if err := os.WriteFile(i.path("stratus.yaml"), []byte(conf), 0o644); err != nil {
				return nil, err
			}
			return []string{"serve", "--config", i.path("stratus.yaml"), "--data-dir", i.path("data")}, nil
		},
		load: func(ctx context.Context, i *instance) error {
			if i.loaded {
				return nil
			}
			if err := stratusWaitAPI(ctx, i); err != nil {
				return err
			}
			t0 := time.Now()
			if _, err := stratusCLI(i, "zone", "import", strings.TrimSuffix(zoneName, "."), i.zoneFile); err != nil {
				return err
			}
			i.imported = time.Since(t0)
			if i.steer != nil {
				if err := stratusServices(i); err != nil {
					return err
				}
			}
			i.loaded = true
			return nil
		},
	}
}

// stratusCLI runs a client command against the instance.
func stratusCLI(i *instance, args ...string) (string, error) {
	base := []string{"--data-dir", i.path("data"), "--server", fmt.Sprintf("http://127.0.0.1:%d", i.apiPort)}
	return run(i.peer.path, append(base, args...)...)
}

// stratusWaitAPI waits until the API answers (any status: the admin token
// exists once it listens).
func stratusWaitAPI(ctx context.Context, i *instance) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/v1/zones", i.apiPort)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if _, err := os.Stat(i.path("data/admin.token")); err == nil {
				return nil
			}
		}
		if i.proc.exited() {
			return i.proc.failure()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stratus: API at %s not up within 60s", url)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stratusServices creates the failover and the weighted service and
// registers their endpoints.
func stratusServices(i *instance) error {
	check := fmt.Sprintf("{type: http, port: %d, path: %s, interval: 1s, fall: 2, rise: 2}", i.steer.healthPort, healthPath)
	fo := fmt.Sprintf(`name: %s
ttl: 20
policy: failover
pools:
  - name: primary
    priority: 1
    check: %s
  - name: backup
    priority: 2
    check: %s
`, strings.TrimSuffix(failoverName, "."), check, check)
	wt := fmt.Sprintf(`name: %s
ttl: 20
policy: weighted
pools:
  - name: main
    check: %s
`, strings.TrimSuffix(weightedName, "."), check)
	for _, svc := range []struct {
		file, yaml, name string
		eps              []endpoint
	}{
		{"fo.yaml", fo, failoverName, failoverEndpoints},
		{"wt.yaml", wt, weightedName, weightedEndpoints},
	} {
		if err := os.WriteFile(i.path(svc.file), []byte(svc.yaml), 0o644); err != nil {
			return err
		}
		if _, err := stratusCLI(i, "service", "create", "-f", i.path(svc.file)); err != nil {
			return err
		}
		for _, e := range svc.eps {
			if _, err := stratusCLI(i, "endpoint", "register", strings.TrimSuffix(svc.name, "."), e.id,
				"--pool", e.pool, "--address", e.addr, "--weight", strconv.Itoa(e.weight)); err != nil {
				return err
			}
		}
	}
	return nil
}

// hasRRL reports whether the stratus binary knows dns.rrl (a binary from
// before response rate limiting refuses the key).
func hasRRL(binary string) bool {
	b, err := os.ReadFile(binary)
	return err == nil && bytes.Contains(b, []byte("responses_per_second"))
}
