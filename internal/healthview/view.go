package healthview

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/store"
)

// VotesPrefix is where the nodes' votes live, one ephemeral key per node
// and target: VotesPrefix + node + "/" + target key.
const VotesPrefix = "health/votes/"

// Defaults of Options.
const (
	DefaultDebounce = 5 * time.Millisecond
	// sweepEvery is how often votes on targets this node no longer checks
	// are taken back.
	sweepEvery = time.Second
	// retryEvery is the wait after a failed write of votes.
	retryEvery = 500 * time.Millisecond
)

// ActorQuorum is the actor of the events the view logs.
const ActorQuorum = "quorum"

// Checker is what the view uses of this node's health.Checker.
type Checker interface {
	Status(key string) (health.Status, bool)
	Statuses() map[string]health.Status
	Push(key string, up bool, reason string) error
	Record(ev health.Event)
}

// Options configure a View.
type Options struct {
	// Node is this node's name, as its session has it.
	Node string
	// Clock times the debounce and stamps changes (default clock.Real()).
	Clock clock.Clock
	// OnChange is called with the keys whose merged state (or hold-down)
	// changed, after Status shows it; never with the view's lock held.
	// ctx carries the trace of the change (telemetry).
	OnChange func(ctx context.Context, keys []string)
	// Debounce is how long this node's changed verdicts are gathered
	// before they are published (default 5 ms). The node's own view does
	// not wait for it.
	Debounce time.Duration
	// SessionTTL is the ttl of the node's sessions: once a session has
	// ended, the other nodes' votes are kept for it, then dropped until
	// the next session's first batch (zero keeps them until then).
	SessionTTL time.Duration
	Logger     *slog.Logger
}

// told is what the view last reported of a target.
type told struct {
	state health.State
	since time.Time
	held  time.Time
}

// View is the merged health of a cluster as one node sees it; its methods
// are safe for concurrent use. Without a session (Run) it is this node's
// checker alone.
type View struct {
	opts Options
	chk  Checker
	log  *slog.Logger
	clk  clock.Clock

	mu       sync.Mutex
	peers    map[string]map[string]Vote // node -> target key -> vote (self excluded)
	isolated map[string]bool
	told     map[string]told
	dirty    map[string]bool // own targets whose vote is to be published
	kick     chan struct{}   // capacity 1: dirty has keys
	// runs counts the Runs begun; ageOut drops the others' votes after
	// a session ended only if no Run began since.
	runs   int
	ageOut clock.Timer // armed while cut off, with the others' votes held
	// aged is set when the others' votes were dropped after a cut-off,
	// until a session's first batch brings them back.
	aged bool
}

// New returns the view of node opts.Node over its checker chk.
func New(chk Checker, opts Options) *View {
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &View{
		opts: opts, chk: chk, log: opts.Logger, clk: opts.Clock,
		peers:    map[string]map[string]Vote{},
		isolated: map[string]bool{},
		told:     map[string]told{},
		dirty:    map[string]bool{},
		kick:     make(chan struct{}, 1),
	}
}

// Node returns this node's name.
func (v *View) Node() string { return v.opts.Node }

// votesOn returns every node's vote on key (self's from st). Call with mu
// held.
func (v *View) votesOn(key string, st health.Status, have bool) map[string]Vote {
	votes := map[string]Vote{}
	for n, m := range v.peers {
		if vt, ok := m[key]; ok {
			votes[n] = vt
		}
	}
	if have {
		if vt, ok := voteOf(st); ok {
			votes[v.opts.Node] = vt
		}
	}
	return votes
}

// live returns the nodes taking part in the vote: this node and every
// node whose votes it holds. Call with mu held.
func (v *View) live() map[string]bool {
	out := make(map[string]bool, len(v.peers)+1)
	out[v.opts.Node] = true
	for n := range v.peers {
		out[n] = true
	}
	return out
}

// merged returns the merged status of key from this node's status st.
// Call with mu held.
func (v *View) merged(key string, st health.Status) health.Status {
	d := decide(v.opts.Node, v.votesOn(key, st, true), v.live(), v.isolated)
	if d.Own {
		return st
	}
	out := st
	out.State, out.View = d.State, d.View
	if t, ok := v.told[key]; ok && t.state == d.State {
		out.Since = t.since
	} else if d.State != st.State {
		out.Since = v.clk.Now()
	}
	return out
}

// Status returns the merged status of a target this node checks: its own
// probes' details (last check, error, RTT, hold-down) with the state the
// cluster's votes make, Since when that state began, and View saying
// whose view it is.
func (v *View) Status(key string) (health.Status, bool) {
	st, ok := v.chk.Status(key)
	if !ok {
		return health.Status{}, false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.merged(key, st), true
}

// Isolated reports whether the view judges node isolated.
func (v *View) Isolated(node string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.isolated[node]
}

// LocalChanged takes a change of this node's verdicts on keys (wire the
// checker's OnChange here): it refreshes the merged view at once, tells
// OnChange of the merged changes, and publishes the votes after the
// debounce.
func (v *View) LocalChanged(ctx context.Context, keys []string) {
	ctx, span := traceMerge(ctx, "local", keys)
	defer span.End()
	v.mu.Lock()
	for _, k := range keys {
		v.dirty[k] = true
	}
	changed := v.refresh(keys)
	v.mu.Unlock()
	v.signal()
	mergeChanged(span, changed)
	v.report(ctx, changed)
}

// Push takes a pushed report at this node (Checker.Push) and publishes it
// to the others, also when it changes no state (a later report is news
// to them). Status shows it before Push returns; OnChange hears of it as
// of any change, from the checker.
func (v *View) Push(key string, up bool, reason string) error {
	if err := v.chk.Push(key, up, reason); err != nil {
		return err
	}
	v.mu.Lock()
	v.dirty[key] = true
	v.mu.Unlock()
	v.signal()
	return nil
}

func (v *View) signal() {
	select {
	case v.kick <- struct{}{}:
	default:
	}
}

func (v *View) report(ctx context.Context, keys []string) {
	if len(keys) > 0 && v.opts.OnChange != nil {
		v.opts.OnChange(ctx, keys)
	}
}

// refresh recomputes isolation and the merged state of keys (all targets
// when isolation changed), logs the changes the cluster made, and returns
// the keys whose merged state or hold-down changed. Call with mu held.
func (v *View) refresh(keys []string) []string {
	statuses := v.chk.Statuses()
	if v.rejudge(statuses) {
		keys = slices.Collect(maps.Keys(statuses))
		for k := range v.told {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	alone := len(v.peers) == 0 && len(v.isolated) == 0
	var changed []string
	now := v.clk.Now()
	for _, k := range keys {
		st, ok := statuses[k]
		if !ok {
			delete(v.told, k)
			continue
		}
		m := v.merged(k, st)
		old, had := v.told[k]
		if alone {
			// One node: its checker's changes are the view's, passed on
			// as they come.
			v.told[k] = told{m.State, m.Since, m.HeldUntil}
			changed = append(changed, k)
			continue
		}
		if had && old.state == m.State && old.held.Equal(m.HeldUntil) {
			continue
		}
		since := m.Since
		if had && old.state != m.State && m.View != "" {
			since = now
			v.chk.Record(health.Event{Time: now, Key: k, Old: old.state, New: m.State, Reason: m.View, Actor: ActorQuorum})
		}
		v.told[k] = told{m.State, since, m.HeldUntil}
		changed = append(changed, k)
	}
	return changed
}

// rejudge recomputes which nodes are isolated and logs the changes that
// concern this node; it reports whether anything changed. Call with mu
// held.
func (v *View) rejudge(statuses map[string]health.Status) bool {
	if len(v.peers) == 0 && len(v.isolated) == 0 {
		return false // alone: never isolated
	}
	byNode := make(map[string]map[string]Vote, len(v.peers)+1)
	maps.Copy(byNode, v.peers)
	own := map[string]Vote{}
	for k, st := range statuses {
		if vt, ok := voteOf(st); ok {
			own[k] = vt
		}
	}
	byNode[v.opts.Node] = own
	now := judgeIsolation(byNode, v.isolated)
	if maps.Equal(now, v.isolated) {
		return false
	}
	for n := range now {
		if !v.isolated[n] {
			v.note(n, byNode[n], true)
		}
	}
	for n := range v.isolated {
		if !now[n] {
			v.note(n, byNode[n], false)
		}
	}
	v.isolated = now
	return true
}

// note logs that node n became isolated, or is no longer.
func (v *View) note(n string, votes map[string]Vote, isolated bool) {
	total, down := 0, 0
	for _, vt := range votes {
		if !vt.Push {
			total++
			if vt.State == health.Down {
				down++
			}
		}
	}
	who := "node " + n
	if n == v.opts.Node {
		who = "this node"
	}
	var reason string
	if isolated {
		what := "every endpoint"
		if down < total {
			what = "nearly every endpoint"
		}
		reason = fmt.Sprintf("%s sees %s down (%d of %d) while the other nodes see them up; its votes are ignored", who, what, down, total)
	} else {
		reason = fmt.Sprintf("%s sees the endpoints as the other nodes do again (%d of %d down); its votes count again", who, down, total)
	}
	v.log.Warn("health view: "+reason, "node", n)
	v.chk.Record(health.Event{Time: v.clk.Now(), Key: "node:" + n, Reason: reason, Actor: ActorQuorum})
}

// Run publishes this node's votes through sess and follows the other
// nodes' until ctx is done or the session ends; it returns nil then. The
// others' votes are kept when it returns (see "Cut off from the store" in
// the package doc); the next Run replaces them.
func (v *View) Run(ctx context.Context, sess store.Session) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	v.mu.Lock()
	v.runs++
	run := v.runs
	if v.ageOut != nil {
		v.ageOut.Stop()
		v.ageOut = nil
	}
	for k := range v.chk.Statuses() {
		v.dirty[k] = true
	}
	v.mu.Unlock()
	v.signal()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); v.publish(ctx, sess) }()
	for ctx.Err() == nil {
		err := sess.WatchEphemeral(ctx, VotesPrefix, v.apply)
		if ctx.Err() != nil {
			break
		}
		v.log.Warn("following the other nodes' health votes failed; retrying", "err", err)
		t := v.clk.NewTimer(retryEvery)
		select {
		case <-ctx.Done():
		case <-t.C():
		}
		t.Stop()
	}
	wg.Wait()
	select {
	case <-sess.Done():
		v.cutOff(run)
	default:
	}
	return nil
}

// cutOff starts the age of the other nodes' votes after the session of
// run ended: this node cannot tell whether the others still live, so it
// keeps their votes for the session ttl (after which their keys would
// have vanished had they died), then decides alone.
func (v *View) cutOff(run int) {
	if v.opts.SessionTTL <= 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.runs != run || v.ageOut != nil {
		return
	}
	v.ageOut = v.clk.AfterFunc(v.opts.SessionTTL, func() { v.dropPeers(run) })
}

// dropPeers forgets the other nodes' votes, if no Run began since run.
func (v *View) dropPeers(run int) {
	v.mu.Lock()
	if v.runs != run {
		v.mu.Unlock()
		return
	}
	v.ageOut = nil
	var keys []string
	for _, m := range v.peers {
		for k := range m {
			keys = append(keys, k)
		}
	}
	v.peers = map[string]map[string]Vote{}
	v.aged = true
	reason := fmt.Sprintf("this node has been cut off from the store for the session ttl (%v): the other nodes' votes are too old to count; it decides by its own verdicts alone", v.opts.SessionTTL)
	v.log.Warn("health view: "+reason, "node", v.opts.Node)
	v.chk.Record(health.Event{Time: v.clk.Now(), Key: "node:" + v.opts.Node, Reason: reason, Actor: ActorQuorum})
	changed := v.refresh(keys)
	v.mu.Unlock()
	v.reportVotes(changed)
}

// apply takes a batch of the nodes' votes.
func (v *View) apply(b store.EphemeralBatch) error {
	v.mu.Lock()
	var keys []string
	if b.Reset {
		if v.aged {
			v.aged = false
			reason := "this node is in contact with the store again: it counts the other nodes' votes again"
			v.log.Info("health view: "+reason, "node", v.opts.Node)
			v.chk.Record(health.Event{Time: v.clk.Now(), Key: "node:" + v.opts.Node, Reason: reason, Actor: ActorQuorum})
		}
		for _, m := range v.peers {
			for k := range m {
				keys = append(keys, k)
			}
		}
		v.peers = map[string]map[string]Vote{}
	}
	for _, ev := range b.Events {
		rest, ok := strings.CutPrefix(ev.Key, VotesPrefix)
		node, key, ok2 := strings.Cut(rest, "/")
		if !ok || !ok2 || node == "" || key == "" {
			v.log.Warn("health vote with a key out of place left out", "key", ev.Key)
			continue
		}
		if node == v.opts.Node {
			continue // this node's own: its checker has them
		}
		keys = append(keys, key)
		if !ev.Deleted && ev.Owner != node {
			// Not held by the live session of the node it names (put
			// without a lease, or by another node): not that node's vote,
			// and whatever vote of it was held is gone.
			v.log.Warn("health vote not held by the session of the node it names left out", "key", ev.Key, "owner", ev.Owner)
			ev.Deleted = true
		}
		if ev.Deleted {
			if m := v.peers[node]; m != nil {
				delete(m, key)
				if len(m) == 0 {
					delete(v.peers, node)
				}
			}
			continue
		}
		vt, err := decodeVote(ev.Key, ev.Value)
		if err != nil {
			v.log.Warn("health vote left out", "err", err)
			continue
		}
		m := v.peers[node]
		if m == nil {
			m = map[string]Vote{}
			v.peers[node] = m
		}
		m[key] = vt
	}
	changed := v.refresh(keys)
	v.mu.Unlock()
	v.reportVotes(changed)
	return nil
}

// publish writes this node's changed votes, gathered for the debounce,
// until ctx is done; it also takes back votes on targets no longer
// checked.
func (v *View) publish(ctx context.Context, sess store.Session) {
	published := map[string]Vote{}
	debounce := v.clk.NewTimer(time.Hour)
	debounce.Stop()
	sweep := v.clk.NewTimer(sweepEvery)
	defer debounce.Stop()
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C():
			sweep.Reset(sweepEvery)
			statuses := v.chk.Statuses()
			v.mu.Lock()
			for k := range published {
				if _, ok := statuses[k]; !ok {
					v.dirty[k] = true
				}
			}
			v.mu.Unlock()
			v.signal()
			continue
		case <-v.kick:
		}
		debounce.Reset(v.opts.Debounce)
		select {
		case <-ctx.Done():
			return
		case <-debounce.C():
		}
		v.mu.Lock()
		keys := slices.Collect(maps.Keys(v.dirty))
		clear(v.dirty)
		v.mu.Unlock()
		slices.Sort(keys)
		// One batch of every changed vote: the store writes it in as
		// few requests as its limits allow, not one round trip a key.
		var evs []store.Event
		var batch []string // the target of each event
		var votes []Vote   // the vote of each put
		for _, k := range keys {
			st, ok := v.chk.Status(k)
			vt, has := voteOf(st)
			path := VotesPrefix + v.opts.Node + "/" + k
			if ok && has {
				if old, was := published[k]; was && old == vt {
					continue
				}
				evs = append(evs, store.Event{Key: path, Value: encodeVote(vt)})
				votes = append(votes, vt)
			} else {
				if _, was := published[k]; !was {
					continue
				}
				evs = append(evs, store.Event{Key: path, Deleted: true})
				votes = append(votes, Vote{})
			}
			batch = append(batch, k)
		}
		var failed []string
		if len(evs) > 0 {
			if err := sess.Apply(ctx, evs); err != nil {
				if ctx.Err() != nil {
					return
				}
				// Some of the batch may be written: publish it all
				// again (writing a vote twice is harmless).
				failed = batch
				v.log.Warn("publishing health votes failed; retrying", "votes", len(batch), "err", err)
			} else {
				for i, k := range batch {
					if evs[i].Deleted {
						delete(published, k)
					} else {
						published[k] = votes[i]
					}
				}
			}
		}
		if len(failed) > 0 {
			v.mu.Lock()
			for _, k := range failed {
				v.dirty[k] = true
			}
			v.mu.Unlock()
			t := v.clk.NewTimer(retryEvery)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C():
			}
			v.signal()
		}
	}
}
