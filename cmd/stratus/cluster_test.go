package main

import (
	"context"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/api"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n got:\n%s\nwant:\n%s", p, got, want)
	}
}

// TestClusterStatus: `stratus cluster status` as a table and as JSON, from
// what GET /v1/cluster answers.
func TestClusterStatus(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	old := clusterNow
	clusterNow = func() time.Time { return now }
	t.Cleanup(func() { clusterNow = old })
	cl := apiv1.Cluster{Node: "ns2", Leader: "ns1", Revision: 120, Members: []apiv1.ClusterMember{
		{Node: "ns1", API: "10.0.0.1:8053", DNS: []string{"10.0.0.1:53"}, Version: "v1.4.0", Started: now.Add(-time.Hour), Leader: true,
			Revision: 120, Health: apiv1.HealthCounts{Up: 5, Down: 1}, Seen: now.Add(-2 * time.Second)},
		{Node: "ns2", API: "10.0.0.2:8053", DNS: []string{"10.0.0.2:53"}, Version: "v1.4.0", Started: now.Add(-time.Hour),
			Revision: 118, Lag: 2, Health: apiv1.HealthCounts{Up: 4, Down: 1, Unknown: 1}, Seen: now.Add(-90 * time.Second)},
		// ns3 led a moment ago: its record still claims it, the election
		// does not; LEADER follows the election.
		{Node: "ns3-long-name.example", API: "10.0.0.3:8053", DNS: []string{"10.0.0.3:53"}, Version: "v1.4.0", Started: now.Add(-time.Minute), Leader: true,
			Revision: 120, Health: apiv1.HealthCounts{Unknown: 6}, Seen: now},
	}}
	svc, _ := controltest.New(t, control.Options{})
	tok, _, err := svc.Tokens.CreateToken(context.Background(), "reader", []string{"zones:read"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.PlaneControl(svc), api.Options{Cluster: func(context.Context) (apiv1.Cluster, error) { return cl, nil }}))
	t.Cleanup(srv.Close)
	s := &testAPI{t: t, url: srv.URL, token: tok}
	golden(t, "cluster_status.txt", s.mustCLI("cluster", "status"))
	golden(t, "cluster_status.json", s.mustCLI("cluster", "status", "-o", "json"))
}
