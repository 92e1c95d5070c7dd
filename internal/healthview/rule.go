package healthview

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/health"
)

// MinIsolationTargets is how many probed targets a node must have
// verdicts on before it can be judged isolated: with fewer, "everything
// fails" says little about the node.
const MinIsolationTargets = 2

// Vote is one node's verdict on one target, as published.
type Vote struct {
	State     health.State
	Since     time.Time
	LastCheck time.Time
	LastError string
	RTT       time.Duration
	// Push: the target is a push target and LastCheck is the time of the
	// report the vote carries.
	Push bool
}

type voteJSON struct {
	State     string        `json:"state"`
	Since     time.Time     `json:"since"`
	LastCheck time.Time     `json:"last_check,omitzero"`
	LastError string        `json:"last_error,omitempty"`
	RTT       time.Duration `json:"rtt_ns,omitempty"`
	Push      bool          `json:"push,omitempty"`
}

// encodeVote returns the stored form of v.
func encodeVote(v Vote) []byte {
	b, _ := json.Marshal(voteJSON{State: v.State.String(), Since: v.Since, LastCheck: v.LastCheck, LastError: v.LastError, RTT: v.RTT, Push: v.Push})
	return b
}

// decodeVote parses a stored vote; a vote that is neither up nor down is
// an error.
func decodeVote(key string, b []byte) (Vote, error) {
	var j voteJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return Vote{}, fmt.Errorf("health vote %s: %w", key, err)
	}
	s := health.ParseState(j.State)
	if s == health.Unknown {
		return Vote{}, fmt.Errorf("health vote %s: state %q is neither up nor down", key, j.State)
	}
	return Vote{State: s, Since: j.Since, LastCheck: j.LastCheck, LastError: j.LastError, RTT: j.RTT, Push: j.Push}, nil
}

// voteOf returns a node's vote from its checker's status; false when the
// status is no verdict (unknown).
func voteOf(st health.Status) (Vote, bool) {
	if st.State == health.Unknown {
		return Vote{}, false
	}
	return Vote{State: st.State, Since: st.Since, LastCheck: st.LastCheck, LastError: st.LastError, RTT: st.RTT, Push: st.Push}, true
}

// Decision is the merged state of one target, and why.
type Decision struct {
	State health.State
	// View says whose view it is; empty when only self voted (or, for a
	// push target, self holds the latest report) and no other node has a
	// vote on the target.
	View string
	// Own is set when the state is self's own verdict alone (View empty).
	Own bool
}

// decide merges the votes on one target, by node, into its state. self
// names this node (its vote is in votes when it has one); live are the
// nodes taking part (self, and every other node with a live session that
// has published a vote on any target; a node in votes is live too);
// ignored are the isolated nodes. A live node without a vote on the
// target holds back: it counts as not seeing it down.
func decide(self string, votes map[string]Vote, live, ignored map[string]bool) Decision {
	if len(votes) == 0 {
		return Decision{State: health.Unknown}
	}
	nodes := make([]string, 0, len(votes))
	push := false
	for n, v := range votes {
		nodes = append(nodes, n)
		push = push || v.Push
	}
	slices.Sort(nodes)
	if push {
		best := ""
		for _, n := range nodes {
			if best == "" || !votes[n].LastCheck.Before(votes[best].LastCheck) {
				best = n
			}
		}
		if len(votes) == 1 && best == self {
			return Decision{State: votes[best].State, Own: true}
		}
		return Decision{State: votes[best].State, View: fmt.Sprintf("latest push report taken by %s", nodeWord(self, best))}
	}
	counted := map[string]bool{self: !ignored[self]}
	for n := range live {
		counted[n] = !ignored[n]
	}
	var up, down []string
	for _, n := range nodes {
		counted[n] = !ignored[n]
		if ignored[n] {
			continue
		}
		if votes[n].State == health.Down {
			down = append(down, n)
		} else {
			up = append(up, n)
		}
	}
	total := 0
	for _, c := range counted {
		if c {
			total++
		}
	}
	if len(up)+len(down) == 0 {
		return Decision{State: health.Unknown, View: fmt.Sprintf("no verdict counts: %s ignored as isolated", strings.Join(nodes, ", "))}
	}
	if total == 1 && len(votes) == 1 && nodes[0] == self {
		return Decision{State: votes[self].State, Own: true}
	}
	if len(down)*2 > total {
		return Decision{State: health.Down, View: fmt.Sprintf("%d of %d nodes see it down (%s)", len(down), total, strings.Join(down, ", "))}
	}
	if len(up) == 0 {
		return Decision{State: health.Up, View: fmt.Sprintf("only %d of %d nodes see it down (%s)", len(down), total, strings.Join(down, ", "))}
	}
	return Decision{State: health.Up, View: fmt.Sprintf("%d of %d nodes see it up (%s)", len(up), total, strings.Join(up, ", "))}
}

func nodeWord(self, n string) string {
	if n == self {
		return "this node (" + n + ")"
	}
	return "node " + n
}

// judgeIsolation returns the isolated nodes, given every node's votes by
// node and target key, and the nodes isolated before (a node stays
// isolated until it sees fewer than half of its targets down or the others
// stop contradicting it; see the package doc).
func judgeIsolation(byNode map[string]map[string]Vote, was map[string]bool) map[string]bool {
	out := map[string]bool{}
	for n, votes := range byNode {
		total, down, contradicted := 0, 0, 0
		for key, v := range votes {
			if v.Push {
				continue
			}
			total++
			if v.State != health.Down {
				continue
			}
			down++
			others, up := 0, 0
			for m, mv := range byNode {
				if m == n {
					continue
				}
				if ov, ok := mv[key]; ok {
					others++
					if ov.State == health.Up {
						up++
					}
				}
			}
			if others > 0 && up*2 > others {
				contradicted++
			}
		}
		if total < MinIsolationTargets || contradicted*2 <= down {
			continue
		}
		if was[n] && down*2 >= total || down*10 >= total*9 {
			out[n] = true
		}
	}
	return out
}
