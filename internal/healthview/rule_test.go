package healthview

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stratusdns/stratus/internal/health"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// votes builds votes on one target from "node=up|down" words.
func votes(words ...string) map[string]Vote {
	out := map[string]Vote{}
	for _, w := range words {
		n, s, _ := strings.Cut(w, "=")
		out[n] = Vote{State: health.ParseState(s), Since: t0}
	}
	return out
}

func set(nodes ...string) map[string]bool {
	out := map[string]bool{}
	for _, n := range nodes {
		out[n] = true
	}
	return out
}

// TestDecide: a probed target is down when a strict majority of the
// live, non-isolated nodes see it down; a live node without a verdict on
// it holds back (counts as not down).
func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name    string
		votes   map[string]Vote
		live    map[string]bool // besides self and the voters
		ignored map[string]bool
		want    health.State
		own     bool
		view    string
	}{
		{"1 node up", votes("a=up"), nil, nil, health.Up, true, ""},
		{"1 node down", votes("a=down"), nil, nil, health.Down, true, ""},
		{"no vote", votes(), nil, nil, health.Unknown, false, ""},
		{"no vote, others live", votes(), set("b", "c"), nil, health.Unknown, false, ""},
		{"self unknown, a peer alone does not take it out", votes("b=down"), nil, nil, health.Up, false, "only 1 of 2 nodes see it down (b)"},
		{"self unknown, a peer up", votes("b=up"), nil, nil, health.Up, false, "1 of 2 nodes see it up (b)"},
		{"2 nodes both up", votes("a=up", "b=up"), nil, nil, health.Up, false, "2 of 2 nodes see it up (a, b)"},
		{"2 nodes both down", votes("a=down", "b=down"), nil, nil, health.Down, false, "2 of 2 nodes see it down (a, b)"},
		{"2 nodes split: up", votes("a=down", "b=up"), nil, nil, health.Up, false, "1 of 2 nodes see it up (b)"},
		{"3 nodes, 2 down", votes("a=up", "b=down", "c=down"), nil, nil, health.Down, false, "2 of 3 nodes see it down (b, c)"},
		{"3 nodes, 1 down", votes("a=up", "b=up", "c=down"), nil, nil, health.Up, false, "2 of 3 nodes see it up (a, b)"},
		{"3 nodes, one gone, the rest split", votes("a=up", "c=down"), nil, nil, health.Up, false, "1 of 2 nodes see it up (a)"},
		{"3 nodes, self without a verdict, 2 down", votes("b=down", "c=down"), nil, nil, health.Down, false, "2 of 3 nodes see it down (b, c)"},
		{"3 live, 2 without a verdict, 1 down", votes("a=down"), set("b", "c"), nil, health.Up, false, "only 1 of 3 nodes see it down (a)"},
		{"3 live, self without a verdict, 1 down", votes("c=down"), set("b"), nil, health.Up, false, "only 1 of 3 nodes see it down (c)"},
		{"3 live, 1 without a verdict, 1 up 1 down", votes("a=up", "c=down"), set("b"), nil, health.Up, false, "1 of 3 nodes see it up (a)"},
		{"5 nodes, 3 down", votes("a=up", "b=down", "c=down", "d=down", "e=up"), nil, nil, health.Down, false, "3 of 5 nodes see it down (b, c, d)"},
		{"5 nodes, 2 down", votes("a=up", "b=down", "c=down", "d=up", "e=up"), nil, nil, health.Up, false, "3 of 5 nodes see it up (a, d, e)"},
		{"5 nodes, 2 gone, 2 of 3 down", votes("a=up", "b=down", "c=down"), nil, nil, health.Down, false, "2 of 3 nodes see it down (b, c)"},
		{"5 live, 2 without a verdict, 2 of 3 down", votes("a=up", "b=down", "c=down"), set("d", "e"), nil, health.Up, false, "1 of 5 nodes see it up (a)"},
		{"5 live, 2 without a verdict, 3 down", votes("b=down", "c=down", "d=down"), set("e"), nil, health.Down, false, "3 of 5 nodes see it down (b, c, d)"},
		{"isolated node ignored", votes("a=up", "b=up", "c=down"), nil, set("c"), health.Up, false, "2 of 2 nodes see it up (a, b)"},
		{"isolated node's down tips nothing", votes("a=up", "b=down", "c=down"), nil, set("c"), health.Up, false, "1 of 2 nodes see it up (a)"},
		{"isolated live node without a verdict not counted", votes("a=down", "b=down"), set("c"), set("c"), health.Down, false, "2 of 2 nodes see it down (a, b)"},
		{"self isolated: the others decide", votes("a=down", "b=up", "c=up"), nil, set("a"), health.Up, false, "2 of 2 nodes see it up (b, c)"},
		{"only isolated votes", votes("a=down"), nil, set("a"), health.Unknown, false, "no verdict counts: a ignored as isolated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decide("a", tc.votes, tc.live, tc.ignored)
			if d.State != tc.want || d.Own != tc.own || d.View != tc.view {
				t.Errorf("decide = %v own=%v %q; want %v own=%v %q", d.State, d.Own, d.View, tc.want, tc.own, tc.view)
			}
		})
	}
}

// TestDecidePush: a push target takes the latest report, whichever node
// took it, isolated or not.
func TestDecidePush(t *testing.T) {
	rep := func(s health.State, at time.Duration) Vote {
		return Vote{State: s, LastCheck: t0.Add(at), Push: true}
	}
	for _, tc := range []struct {
		name  string
		votes map[string]Vote
		want  health.State
		view  string
	}{
		{"own report alone", map[string]Vote{"a": rep(health.Up, 0)}, health.Up, ""},
		{"a peer's newer report", map[string]Vote{"a": rep(health.Up, 0), "b": rep(health.Down, time.Second)}, health.Down, "latest push report taken by node b"},
		{"own newer report", map[string]Vote{"a": rep(health.Up, 2*time.Second), "b": rep(health.Down, time.Second), "c": rep(health.Down, time.Second)}, health.Up, "latest push report taken by this node (a)"},
		{"only a peer's report", map[string]Vote{"c": rep(health.Down, 0)}, health.Down, "latest push report taken by node c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decide("a", tc.votes, nil, set("b", "c"))
			if d.State != tc.want || d.View != tc.view {
				t.Errorf("decide = %v %q; want %v %q", d.State, d.View, tc.want, tc.view)
			}
		})
	}
}

// nodeVotes builds a node's votes on targets t0..t(n-1): the first down
// are down, the rest up.
func nodeVotes(n, down int) map[string]Vote {
	out := map[string]Vote{}
	for i := range n {
		s := health.Up
		if i < down {
			s = health.Down
		}
		out["t"+string(rune('0'+i))] = Vote{State: s}
	}
	return out
}

// TestJudgeIsolation: a node that sees (nearly) everything down while the
// others see those targets up is isolated; one whose view the others
// share is not.
func TestJudgeIsolation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		byNode map[string]map[string]Vote
		was    map[string]bool
		want   []string
	}{
		{"alone, everything down", map[string]map[string]Vote{"a": nodeVotes(5, 5)}, nil, nil},
		{"3 nodes, c sees everything down", map[string]map[string]Vote{"a": nodeVotes(5, 0), "b": nodeVotes(5, 0), "c": nodeVotes(5, 5)}, nil, []string{"c"}},
		{"2 nodes, b sees everything down", map[string]map[string]Vote{"a": nodeVotes(5, 0), "b": nodeVotes(5, 5)}, nil, []string{"b"}},
		{"5 nodes, e sees 9 of 10 down", map[string]map[string]Vote{"a": nodeVotes(10, 0), "b": nodeVotes(10, 0), "c": nodeVotes(10, 0), "d": nodeVotes(10, 0), "e": nodeVotes(10, 9)}, nil, []string{"e"}},
		{"c sees 8 of 10 down: not nearly all", map[string]map[string]Vote{"a": nodeVotes(10, 0), "b": nodeVotes(10, 0), "c": nodeVotes(10, 8)}, nil, nil},
		{"everyone sees everything down", map[string]map[string]Vote{"a": nodeVotes(5, 5), "b": nodeVotes(5, 5), "c": nodeVotes(5, 5)}, nil, nil},
		{"2 of 3 see everything down: a majority", map[string]map[string]Vote{"a": nodeVotes(5, 0), "b": nodeVotes(5, 5), "c": nodeVotes(5, 5)}, nil, nil},
		{"one target only", map[string]map[string]Vote{"a": nodeVotes(1, 0), "b": nodeVotes(1, 0), "c": nodeVotes(1, 1)}, nil, nil},
		{"the others have no verdict", map[string]map[string]Vote{"a": {}, "b": {}, "c": nodeVotes(5, 5)}, nil, nil},
		{"isolated stays while half are down", map[string]map[string]Vote{"a": nodeVotes(10, 0), "b": nodeVotes(10, 0), "c": nodeVotes(10, 5)}, set("c"), []string{"c"}},
		{"isolated leaves below half", map[string]map[string]Vote{"a": nodeVotes(10, 0), "b": nodeVotes(10, 0), "c": nodeVotes(10, 4)}, set("c"), nil},
		{"isolated leaves when the others see it too", map[string]map[string]Vote{"a": nodeVotes(5, 5), "b": nodeVotes(5, 5), "c": nodeVotes(5, 5)}, set("c"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := slices.Sorted(maps.Keys(judgeIsolation(tc.byNode, tc.was)))
			if !slices.Equal(got, tc.want) {
				t.Errorf("isolated %v, want %v", got, tc.want)
			}
		})
	}
}
