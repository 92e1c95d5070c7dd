package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// MembersPrefix is where the member records live, one ephemeral key per
// live session: MembersPrefix + node name.
const MembersPrefix = "members/"

// Member is a node's record in the cluster: what it is, where it
// answers, and how far it has come.
type Member struct {
	Node    string    `json:"node"`
	API     string    `json:"api"`
	DNS     []string  `json:"dns"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	// Leader reports whether the node held a term when it wrote this.
	Leader bool `json:"leader"`
	// Revision is the store revision the node's DNS answers from.
	Revision int64 `json:"revision"`
	// Health counts the endpoints by the node's own checks.
	Health HealthCounts `json:"health"`
	// Seen is when the node last wrote the record.
	Seen time.Time `json:"seen"`
}

// HealthCounts counts checked endpoints by state.
type HealthCounts struct {
	Up      int `json:"up"`
	Down    int `json:"down"`
	Unknown int `json:"unknown"`
}

// MemberInterval is the shortest time between two writes of a member
// record.
const MemberInterval = time.Second

// Announce returns the session task that keeps the node's member record
// current: written at the start of each session, then again, at most once
// every MemberInterval, whenever what describe returns has changed. Seen
// and Leader are filled in here.
func (n *Node) Announce(describe func() Member) SessionTask {
	return func(ctx context.Context, sess store.Session) error {
		key := MembersPrefix + n.opts.Name
		var last []byte
		t := n.opts.Clock.NewTimer(MemberInterval)
		defer t.Stop()
		for {
			m := describe()
			m.Node, m.Leader = n.opts.Name, n.Leading()
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			if !bytes.Equal(b, last) {
				m.Seen = n.opts.Clock.Now().UTC()
				rec, err := json.Marshal(m)
				if err != nil {
					return err
				}
				if err := sess.Put(ctx, key, rec); err != nil {
					return fmt.Errorf("writing the member record: %w", err)
				}
				last = b
			}
			t.Reset(MemberInterval)
			select {
			case <-t.C():
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// Members reads the member records of every live session, sorted by node
// name. A record that cannot be read is an error naming its key.
func Members(ctx context.Context, sess store.Session) ([]Member, error) {
	evs, err := sess.List(ctx, MembersPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(evs))
	for _, ev := range evs {
		var m Member
		if err := json.Unmarshal(ev.Value, &m); err != nil {
			return nil, fmt.Errorf("member record %s: %v", ev.Key, err)
		}
		if want := strings.TrimPrefix(ev.Key, MembersPrefix); m.Node != want {
			return nil, fmt.Errorf("member record %s: names node %q", ev.Key, m.Node)
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Node, b.Node) })
	return out, nil
}
