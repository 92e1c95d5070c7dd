package main

import (
	"fmt"
	"slices"
	"strings"
)

// The steered services, the same in every health-aware server:
//
//   - failoverName: two pools by priority, one endpoint each; the primary
//     is answered while its check passes, else the backup;
//   - weightedName: one pool of three endpoints with weights 1, 2 and 3;
//     each answer is one endpoint, picked by weight among the healthy ones.
//
// Every endpoint's answer address is a loopback address of its own, where
// the harness serves /healthz over HTTP on one shared port (gdnsd and
// PowerDNS check the answered address itself, so the addresses must
// differ). Checks run every second, during the measurements too.
const (
	failoverName = "fo." + zoneName
	weightedName = "wt." + zoneName
	healthPath   = "/healthz"
)

// endpoint is one answer of a steered name.
type endpoint struct {
	id     string
	addr   string
	pool   string // failover: primary or backup; weighted: main
	weight int
}

var (
	failoverEndpoints = []endpoint{
		{id: "p1", addr: "127.0.0.11", pool: "primary", weight: 1},
		{id: "b1", addr: "127.0.0.12", pool: "backup", weight: 1},
	}
	weightedEndpoints = []endpoint{
		{id: "w1", addr: "127.0.0.21", pool: "main", weight: 1},
		{id: "w2", addr: "127.0.0.22", pool: "main", weight: 2},
		{id: "w3", addr: "127.0.0.23", pool: "main", weight: 3},
	}
)

// allEndpoints lists every endpoint the health server must answer for.
func allEndpoints() []endpoint {
	return slices.Concat(failoverEndpoints, weightedEndpoints)
}

// steering describes the steered workload a server is configured for.
type steering struct {
	healthPort int // the port of every endpoint's /healthz
}

// relative returns name without the zone suffix ("fo").
func relative(name string) string {
	return strings.TrimSuffix(name, "."+zoneName)
}

// staticSteeredRecords are the reference records of a server without
// steering: the steered names as plain A records with the answer a
// healthy service gives (one address each).
func staticSteeredRecords() string {
	return fmt.Sprintf("%s 20 IN A %s\n%s 20 IN A %s\n",
		relative(failoverName), failoverEndpoints[0].addr,
		relative(weightedName), weightedEndpoints[2].addr)
}
