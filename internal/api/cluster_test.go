package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestCluster: GET /v1/cluster answers what the node reports, needs
// zones:read, and answers 503 while the node cannot read the cluster.
func TestCluster(t *testing.T) {
	svc, _ := controltest.New(t, control.Options{})
	ctx := context.Background()
	admin, _, err := svc.Tokens.CreateToken(ctx, "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	reader, _, err := svc.Tokens.CreateToken(ctx, "reader", []string{"zones:read"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := svc.Tokens.CreateToken(ctx, "other", []string{"tokens:admin"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	want := apiv1.Cluster{Node: "a", Leader: "b", Revision: 12, Members: []apiv1.ClusterMember{
		{Node: "a", API: "127.0.0.1:8053", DNS: []string{"127.0.0.1:1053"}, Version: "v1", Started: started, Revision: 12, Health: apiv1.HealthCounts{Up: 1, Down: 2, Unknown: 3}, Seen: started},
		{Node: "b", API: "127.0.0.2:8053", DNS: []string{}, Version: "v1", Started: started, Leader: true, Revision: 10, Lag: 2, Seen: started},
	}}
	var fail error
	srv := httptest.NewServer(New(PlaneControl(svc), Options{Cluster: func(context.Context) (apiv1.Cluster, error) {
		if fail != nil {
			return apiv1.Cluster{}, fail
		}
		return want, nil
	}}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: svc, admin: admin}

	r := e.do(t, "GET", "/v1/cluster", reader, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /v1/cluster: %d %s", r.status, r.body)
	}
	var got apiv1.Cluster
	r.decode(t, &got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if r = e.do(t, "GET", "/v1/cluster", other, ""); r.status != http.StatusForbidden {
		t.Errorf("without zones:read: %d %s", r.status, r.body)
	}
	if r = e.do(t, "GET", "/v1/cluster", "", ""); r.status != http.StatusUnauthorized {
		t.Errorf("without a token: %d %s", r.status, r.body)
	}
	fail = fmt.Errorf("this node has no session on the store now: %w", store.ErrUnavailable)
	r = e.do(t, "GET", "/v1/cluster", admin, "")
	if ae := r.apiError(t); r.status != http.StatusServiceUnavailable || !strings.Contains(ae.Message, "no session on the store") {
		t.Errorf("without a session: %d %s", r.status, r.body)
	}

	// A server that does not report its cluster says so.
	e = newAPI(t)
	if r = e.do(t, "GET", "/v1/cluster", e.admin, ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("without Options.Cluster: %d %s", r.status, r.body)
	}
}
