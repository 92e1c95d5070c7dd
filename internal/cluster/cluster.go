package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// Election is the name of the election whose leader runs the work that
// must run once.
const Election = "leader"

// Defaults of Options.
const (
	DefaultSessionTTL = 5 * time.Second
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 10 * time.Second
)

// OpenFunc opens a session for node with ttl: store.Shared's Session, or
// a local session for a store of one node.
type OpenFunc func(ctx context.Context, node string, ttl time.Duration) (store.Session, error)

// Options configure a Node.
type Options struct {
	// Name is the node's name in the cluster (config cluster.node).
	Name string
	// SessionTTL is how long the node's session outlives its last contact
	// with the store (default DefaultSessionTTL).
	SessionTTL time.Duration
	// Open opens a session.
	Open OpenFunc
	// Clock times the waits between attempts (default clock.Real()).
	Clock clock.Clock
	// MinBackoff and MaxBackoff bound the wait before a new attempt to
	// open a session, campaign, or run a task that failed; it doubles
	// with each failure in a row.
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
}

// SessionTask is work attached to one session: it runs from the start of
// each session until ctx is done (the session ended or the node stops).
// An error is logged and the task runs again after a backoff, as long as
// the session lasts; nil ends it for this session.
type SessionTask func(ctx context.Context, sess store.Session) error

// LeaderTask is work that runs on the leader alone. It is called at the
// start of each term with the term's fenced context and must return
// promptly once ctx is done: the next term, here or on another node,
// waits for that. A task returning early is started again after a
// backoff while the term lasts.
type LeaderTask func(ctx context.Context)

type task[F any] struct {
	name string
	fn   F
}

// Node is this node's membership of the cluster.
type Node struct {
	opts Options
	log  *slog.Logger

	mu        sync.Mutex
	sessTasks []task[SessionTask]
	leadTasks []task[LeaderTask]
	running   bool
	sess      store.Session // nil between sessions
	leading   bool
	terms     int
	changed   chan struct{} // closed and replaced on every change of sess or leading
}

// New returns a node; attach tasks, then Run it.
func New(opts Options) *Node {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(DefaultMaxBackoff, opts.MinBackoff)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Node{opts: opts, log: opts.Logger, changed: make(chan struct{})}
}

// Name returns the node's name.
func (n *Node) Name() string { return n.opts.Name }

// OnSession attaches fn to every session of the node. Call before Run.
func (n *Node) OnSession(name string, fn SessionTask) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.running {
		panic("cluster: OnSession after Run")
	}
	n.sessTasks = append(n.sessTasks, task[SessionTask]{name, fn})
}

// WhileLeading runs fn in every term the node leads. Call before Run.
func (n *Node) WhileLeading(name string, fn LeaderTask) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.running {
		panic("cluster: WhileLeading after Run")
	}
	n.leadTasks = append(n.leadTasks, task[LeaderTask]{name, fn})
}

// Session returns the node's current session, nil between sessions.
func (n *Node) Session() store.Session {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sess
}

// Leading reports whether the node holds a term now.
func (n *Node) Leading() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leading
}

// Terms returns how many terms the node has led so far.
func (n *Node) Terms() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.terms
}

// Changed returns a channel closed at the next change of the session or
// of the leadership.
func (n *Node) Changed() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changed
}

func (n *Node) set(f func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f()
	close(n.changed)
	n.changed = make(chan struct{})
}

// Run keeps the node in the cluster until ctx is done: it opens a
// session, runs the session tasks and campaigns, and opens a new session
// when one ends. It returns once every task has stopped and the last
// session is closed.
func (n *Node) Run(ctx context.Context) {
	n.mu.Lock()
	n.running = true
	n.mu.Unlock()
	b := n.newBackoff()
	for ctx.Err() == nil {
		sess, err := n.opts.Open(ctx, n.opts.Name, n.opts.SessionTTL)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d := b.next()
			n.log.Warn("cannot open a session on the store; retrying", "node", n.opts.Name, "in", d, "err", err)
			if !n.sleep(ctx, d) {
				return
			}
			continue
		}
		started := n.opts.Clock.Now()
		n.log.Info("session opened", "node", n.opts.Name, "ttl", n.opts.SessionTTL)
		n.runSession(ctx, sess)
		if err := sess.Close(); err != nil && !errors.Is(err, store.ErrSessionEnded) {
			n.log.Debug("closing the session", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		// A session that lasted is no failure; one that ended at once is.
		if clock.Since(n.opts.Clock, started) >= n.opts.SessionTTL {
			b.reset()
		}
		d := b.next()
		n.log.Warn("session ended; opening a new one", "node", n.opts.Name, "in", d)
		if !n.sleep(ctx, d) {
			return
		}
	}
}

// runSession runs sess's tasks and campaigns until the session ends or
// ctx is done, and returns once all of them have stopped.
func (n *Node) runSession(ctx context.Context, sess store.Session) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-sctx.Done():
		}
	}()
	n.set(func() { n.sess = sess })
	defer n.set(func() { n.sess = nil })
	var wg sync.WaitGroup
	for _, t := range n.sessTasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.keepRunning(sctx, "session task", t.name, func(ctx context.Context) error { return t.fn(ctx, sess) })
		}()
	}
	defer wg.Wait()
	b := n.newBackoff()
	for sctx.Err() == nil {
		term, err := sess.Campaign(sctx, Election, []byte(n.opts.Name))
		if err != nil {
			if sctx.Err() != nil || errors.Is(err, store.ErrSessionEnded) {
				return
			}
			d := b.next()
			n.log.Warn("campaign failed; retrying", "node", n.opts.Name, "in", d, "err", err)
			if !n.sleep(sctx, d) {
				return
			}
			continue
		}
		b.reset()
		n.runTerm(sctx, term)
	}
}

// runTerm runs the leader's tasks with the term's fenced context until
// the term ends or ctx is done, and returns once they have all stopped.
func (n *Node) runTerm(ctx context.Context, term store.Term) {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-term.Done():
			cancel()
		case <-tctx.Done():
		}
	}()
	fenced := term.Fence(tctx)
	n.set(func() { n.leading, n.terms = true, n.terms+1 })
	n.log.Info("leading the cluster", "node", n.opts.Name)
	var wg sync.WaitGroup
	for _, t := range n.leadTasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.keepRunning(fenced, "leader task", t.name, func(ctx context.Context) error {
				t.fn(ctx)
				if ctx.Err() == nil {
					return errors.New("returned while the term lasts")
				}
				return nil
			})
		}()
	}
	<-tctx.Done()
	n.set(func() { n.leading = false })
	n.log.Info("no longer leading; stopping the leader's tasks", "node", n.opts.Name)
	wg.Wait()
	n.log.Info("the leader's tasks have stopped", "node", n.opts.Name)
}

// keepRunning runs fn until it returns nil or ctx is done, waiting a
// backoff after each error. A panic of fn is an error: it is logged with
// its stack, counted (stratus_panics_recovered_total{component=
// "cluster_task"}) and fn starts again after the backoff.
func (n *Node) keepRunning(ctx context.Context, kind, name string, fn func(context.Context) error) {
	b := n.newBackoff()
	log := n.log.With("task", name)
	for {
		err := telemetry.Catch(log, "cluster_task", func() error { return fn(ctx) })
		if err == nil || ctx.Err() != nil {
			return
		}
		d := b.next()
		n.log.Warn(fmt.Sprintf("%s failed; starting it again", kind), "task", name, "in", d, "err", err)
		if !n.sleep(ctx, d) {
			return
		}
	}
}

func (n *Node) sleep(ctx context.Context, d time.Duration) bool {
	t := n.opts.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}

type backoff struct {
	min, max, cur time.Duration
}

func (n *Node) newBackoff() *backoff {
	return &backoff{min: n.opts.MinBackoff, max: n.opts.MaxBackoff}
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }
