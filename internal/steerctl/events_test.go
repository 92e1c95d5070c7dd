package steerctl

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
)

// eventLines renders events as "key old>new actor: reason".
func eventLines(evs []health.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = fmt.Sprintf("%s %s>%s %s: %s", ev.Key, ev.Old, ev.New, ev.Actor, ev.Reason)
	}
	return out
}

// TestOverrideEventsStateWhatHappened: an override event names the
// state before and the state after, as the answers see them; where the
// state stays, the reason says so instead of claiming a change.
func TestOverrideEventsStateWhatHappened(t *testing.T) {
	const svc = model.Name("api.example.com.")
	type step struct {
		push     map[string]bool   // endpoint id -> pushed up or down
		endpoint map[string]string // endpoint id -> override state set ("" clears)
		pool     *string           // pool p's override state set ("" clears)
		reason   string
	}
	str := func(s string) *string { return &s }
	tests := []struct {
		name  string
		steps []step
		want  []string // events of the overrides, in order
	}{
		{"clearing a forced-down endpoint whose check says down", []step{
			{push: map[string]bool{"a": false, "b": true}},
			{endpoint: map[string]string{"a": "down"}, reason: "bad deploy"},
			{endpoint: map[string]string{"a": ""}},
		}, []string{
			"api.example.com.|a down>down alice: forced down: bad deploy; the endpoint was down already (check: down (maintenance))",
			"api.example.com.|a down>down alice: override cleared; the checks decide again: down (check: down (maintenance))",
		}},
		{"clearing a forced-down endpoint whose check says up", []step{
			{push: map[string]bool{"a": true, "b": true}},
			{endpoint: map[string]string{"a": "down"}},
			{endpoint: map[string]string{"a": ""}, reason: "fixed"},
		}, []string{
			"api.example.com.|a up>down alice: forced down",
			"api.example.com.|a down>up alice: override cleared: fixed; the checks decide again: up (check: up)",
		}},
		{"forcing up an endpoint its check says is down", []step{
			{push: map[string]bool{"a": false, "b": true}},
			{endpoint: map[string]string{"a": "up"}},
		}, []string{
			"api.example.com.|a down>up alice: forced up",
		}},
		{"draining a pool that is down already", []step{
			{push: map[string]bool{"a": false, "b": false}},
			{pool: str("down"), reason: "maintenance"},
			{pool: str("")},
		}, []string{
			"api.example.com.|pool:p down>down alice: drained: maintenance; the pool was down already (0 of 2 endpoints up, fewer than min_healthy 1)",
			"api.example.com.|pool:p down>down alice: override cleared; the checks decide again: down (0 of 2 endpoints up, fewer than min_healthy 1)",
		}},
		{"draining a pool that is up", []step{
			{push: map[string]bool{"a": true, "b": false}},
			{pool: str("down")},
			{pool: str("")},
		}, []string{
			"api.example.com.|pool:p up>down alice: drained",
			"api.example.com.|pool:p down>up alice: override cleared; the checks decide again: up (1 of 2 endpoints up)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, checker := newController(t)
			now := time.Now()
			s := service()
			eps := map[string]*model.Endpoint{"a": endpoint("a", "192.0.2.1", 0, now), "b": endpoint("b", "192.0.2.2", 0, now)}
			c.ResetServices([]*model.Service{s}, []*model.Endpoint{eps["a"], eps["b"]})
			for i, st := range tt.steps {
				at := now.Add(time.Duration(i+1) * time.Second)
				for id, up := range st.push {
					if err := checker.Push(string(svc)+"|"+id, up, "maintenance"); err != nil {
						t.Fatal(err)
					}
				}
				if st.push != nil {
					c.Refresh()
				}
				var u publish.ServiceUpdate
				for id, state := range st.endpoint {
					e := *eps[id]
					e.Override = &model.Override{State: state, Actor: "alice", Reason: st.reason, Time: at}
					eps[id] = &e
					u.Endpoints = append(u.Endpoints, &e)
				}
				if st.pool != nil {
					ns := *s
					ns.Pools = append([]model.Pool(nil), s.Pools...)
					ns.Pools[0].Override = &model.Override{State: *st.pool, Actor: "alice", Reason: st.reason, Time: at}
					s = &ns
					u.Services = append(u.Services, s)
				}
				if !u.Empty() {
					c.UpdateServices(u)
				}
			}
			var got []string
			for _, ev := range checker.Events(0, 0) {
				if ev.Actor == "alice" {
					got = append(got, eventLines([]health.Event{ev})[0])
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestLeaseLapseEventStatesTheStateBefore: a lapse takes an endpoint the
// answers had as up out of them: up -> down.
func TestLeaseLapseEventStatesTheStateBefore(t *testing.T) {
	clk := clock.NewFake(epoch)
	start := clk.Now()
	c, checker := newControllerWith(t, Options{Clock: clk})
	svc := service()
	svc.Pools[0].Check.PushTTL = model.Duration(time.Hour) // the push outlives the lease
	c.ResetServices([]*model.Service{svc}, []*model.Endpoint{endpoint("a", "192.0.2.1", time.Minute, start), endpoint("b", "192.0.2.2", 0, start)})
	if err := checker.Push("api.example.com.|a", true, ""); err != nil {
		t.Fatal(err)
	}
	c.Refresh()
	if got := answer(t, c); len(got) != 2 {
		t.Fatalf("before the lapse: %v", got)
	}
	clk.Set(start.Add(2 * time.Minute))
	waitFor(t, "the lapsed endpoint to leave the answers", func() bool { return len(answer(t, c)) == 1 })
	settled(c) // the lapse is recorded after the snapshot is published
	var got []string
	for _, ev := range checker.Events(0, 0) {
		if ev.Actor == "lease" {
			got = append(got, eventLines([]health.Event{ev})[0])
		}
	}
	want := "api.example.com.|a up>down lease: lease of 1m0s lapsed at 2030-01-02T03:05:05Z"
	if len(got) != 1 || got[0] != want {
		t.Errorf("lease events %q, want %q", got, want)
	}
}
