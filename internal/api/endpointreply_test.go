package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/internal/steerctl"
	"github.com/stratusdns/stratus/internal/store/bolt"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// steeredEnv is the API with steering and health checks behind it, all on
// one fake clock, so that what a reply says of an endpoint is the same at
// every run.
type steeredEnv struct {
	*apiEnv
	clk     *clock.Fake
	checker *health.Checker
	steer   *steerctl.Controller
}

// replyEpoch is where the fake clock of the reply tests starts.
var replyEpoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func newSteeredAPI(t testing.TB) *steeredEnv {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(replyEpoch)
	var ctrl *steerctl.Controller
	checker := health.New(health.Options{Clock: clk, OnChange: func(ctx context.Context, keys []string) { ctrl.HealthChanged(ctx, keys) }})
	ctrl = steerctl.New(checker, steerctl.Options{Clock: clk})
	pub := publish.New(st, nil)
	pub.SetServiceSink(ctrl)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); pub.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		ctrl.Close()
		checker.Close()
		st.Close()
	})
	select {
	case <-pub.Ready():
	case err := <-pub.Failed():
		t.Fatal(err)
	}
	plane := control.New(st, pub, control.Options{Clock: clk.Now})
	admin, _, err := plane.Tokens.CreateToken(ctx, "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(PlaneControl(plane), Options{Steering: ctrl}))
	t.Cleanup(srv.Close)
	return &steeredEnv{apiEnv: &apiEnv{srv: srv, svc: plane, admin: admin}, clk: clk, checker: checker, steer: ctrl}
}

// manyEndpoints sets up two services of 40 endpoints each in three pools,
// in every state a reply can show: answered, answered by chance, left out
// by the answer bound, failed over from, down by a push, drained by an
// operator, and in a pool drained whole.
func manyEndpoints(t testing.TB, e *steeredEnv) []string {
	t.Helper()
	if r := e.do(t, "POST", "/v1/zones", e.admin, createExample); r.status != 201 {
		t.Fatalf("create zone: %d %s", r.status, r.body)
	}
	pools := `[{"name":"primary","priority":1,"check":{"type":"push"}},` +
		`{"name":"backup","priority":2,"check":{"type":"none"}},` +
		`{"name":"spare","priority":3,"check":{"type":"none"}}]`
	services := []string{"fo.example.com", "wt.example.com"}
	for i, body := range []string{
		`{"name":"fo.example.com","policy":"failover","max_answers":4,"pools":` + pools + `}`,
		`{"name":"wt.example.com","policy":"weighted","pools":` + pools + `}`,
	} {
		if r := e.do(t, "POST", "/v1/services", e.admin, body); r.status != 201 {
			t.Fatalf("create service %s: %d %s", services[i], r.status, r.body)
		}
	}
	for _, svc := range services {
		for i := range 40 {
			pool := []string{"primary", "backup", "spare"}[i%3]
			body := fmt.Sprintf(`{"pool":%q,"address":"192.0.2.%d","weight":%d,"ttl":"1h"}`, pool, i+1, 1+i%4)
			path := fmt.Sprintf("/v1/services/%s/endpoints/e%02d", svc, i)
			if r := e.do(t, "PUT", path, e.admin, body); r.status != 201 {
				t.Fatalf("register %s: %d %s", path, r.status, r.body)
			}
			switch {
			case i%3 == 0 && i%2 == 0:
				// Half of the primary pool reports itself down.
				key := steer.Key(model.MustName(svc+"."), fmt.Sprintf("e%02d", i))
				if err := e.checker.Push(key, false, "disk full"); err != nil {
					t.Fatal(err)
				}
				e.steer.HealthChanged(context.Background(), []string{key})
			case i%3 == 1 && i%5 == 0:
				if r := e.do(t, "PUT", path+"/override", e.admin, `{"state":"down","reason":"maintenance"}`); r.status != 200 {
					t.Fatalf("override %s: %d %s", path, r.status, r.body)
				}
			}
		}
		if r := e.do(t, "PUT", "/v1/services/"+svc+"/pools/spare/override", e.admin, `{"state":"down","reason":"retired"}`); r.status != 200 {
			t.Fatalf("pool override: %d %s", r.status, r.body)
		}
	}
	return services
}

// TestEndpointRepliesManyEndpoints: the reply about one endpoint of a
// service with many (its GET, its renewal, its registration again, a
// push) says of it what the listing of the whole service says, and what
// the golden file holds.
func TestEndpointRepliesManyEndpoints(t *testing.T) {
	e := newSteeredAPI(t)
	services := manyEndpoints(t, e)
	var out bytes.Buffer
	for _, svc := range services {
		base := "/v1/services/" + svc + "/endpoints"
		r := e.do(t, "GET", base, e.admin, "")
		if r.status != 200 {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		var list struct {
			Endpoints []json.RawMessage `json:"endpoints"`
		}
		r.decode(t, &list)
		fmt.Fprintf(&out, "GET %s\n", base)
		listed := map[string][]byte{}
		for _, ep := range list.Endpoints {
			var id struct{ ID string }
			if err := json.Unmarshal(ep, &id); err != nil {
				t.Fatal(err)
			}
			listed[id.ID] = compact(t, ep)
			out.Write(listed[id.ID])
			out.WriteByte('\n')
		}
		if len(listed) != 40 {
			t.Fatalf("%s lists %d endpoints, want 40", svc, len(listed))
		}
		for i := range 40 {
			id := fmt.Sprintf("e%02d", i)
			path := base + "/" + id
			reg := fmt.Sprintf(`{"pool":%q,"address":"192.0.2.%d","weight":%d,"ttl":"1h"}`, []string{"primary", "backup", "spare"}[i%3], i+1, 1+i%4)
			for _, c := range []struct{ method, path, body string }{
				{"GET", path, ""},
				{"POST", path + "/renew", ""},
				{"PUT", path, reg},
			} {
				r := e.do(t, c.method, c.path, e.admin, c.body)
				if r.status != http.StatusOK {
					t.Fatalf("%s %s: %d %s", c.method, c.path, r.status, r.body)
				}
				got := compact(t, r.body)
				if !bytes.Equal(got, listed[id]) {
					t.Errorf("%s %s says\n%s\nthe listing says\n%s", c.method, c.path, got, listed[id])
				}
				fmt.Fprintf(&out, "%s %s\n%s\n", c.method, c.path, got)
			}
		}
	}
	golden := filepath.Join("testdata", "endpoint_replies.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("the replies differ from %s (go test -run %s -update rewrites it):\n%s", golden, t.Name(), out.Bytes())
	}
}

// compact returns the JSON b on one line.
func compact(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return out.Bytes()
}

// BenchmarkRenewReply measures the renewal of one endpoint of a service of
// 1,000, through the handler, with a token that may read services (its
// reply shows the endpoint's steering state) and with a function's
// endpoints:write token (its reply does not).
func BenchmarkRenewReply(b *testing.B) {
	e := newSteeredAPI(b)
	if r := e.do(b, "POST", "/v1/zones", e.admin, createExample); r.status != 201 {
		b.Fatalf("create zone: %d %s", r.status, r.body)
	}
	const svc = "bench.example.com"
	body := `{"name":"` + svc + `","policy":"failover","pools":[{"name":"a","priority":1},{"name":"b","priority":2}]}`
	if r := e.do(b, "POST", "/v1/services", e.admin, body); r.status != 201 {
		b.Fatalf("create service: %d %s", r.status, r.body)
	}
	const n = 1000
	ctx := context.Background()
	sem := make(chan struct{}, 32)
	errs := make(chan error, n)
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			ep := model.Endpoint{ID: fmt.Sprintf("e%04d", i), Pool: []string{"a", "b"}[i%2], Address: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), LeaseTTL: model.Duration(time.Hour)}
			_, _, err := e.svc.Endpoints.RegisterEndpoint(ctx, model.MustName(svc+"."), ep, "bench")
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	r := e.do(b, "POST", "/v1/tokens", e.admin, `{"name":"fn","scopes":["endpoints:write"]}`)
	var fn apiv1.CreatedToken
	r.decode(b, &fn)
	h := e.srv.Config.Handler
	for _, tc := range []struct{ name, token string }{
		{"services-read", e.admin},
		{"endpoints-write", fn.Secret},
	} {
		b.Run(tc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				req := httptest.NewRequest("POST", fmt.Sprintf("/v1/services/%s/endpoints/e%04d/renew", svc, i%n), nil)
				req.Header.Set("Authorization", "Bearer "+tc.token)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("renew: %d %s", w.Code, w.Body)
				}
				i++
			}
		})
	}
}
