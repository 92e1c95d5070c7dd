package publish

import (
	"context"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// StoreState is what the publisher last learnt of the store's reach.
type StoreState struct {
	// Unreachable is set while the store fails to answer: DNS answers
	// from the snapshot at Revision, and writes fail.
	Unreachable bool
	// Since is when the store last became unreachable, or reachable.
	Since time.Time
	// Err is the last failure while Unreachable.
	Err error
	// Revision is the revision of the snapshot served.
	Revision store.Revision
}

// State returns the store's reach as the last probe saw it.
func (p *Publisher) State() StoreState {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.state
	s.Revision = p.applied
	return s
}

// OnReach sets fn to be called, from the probing goroutine, each time
// Probe finds the store's reach changed: with the state entered (Since,
// and Err when unreachable). Set it before Monitor starts.
func (p *Publisher) OnReach(fn func(StoreState)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onReach = fn
}

// Monitor probes the store every interval until ctx is done (see Probe).
func (p *Publisher) Monitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.Probe(ctx)
		}
	}
}

// lagProbes is how many probes in a row may see the store ahead of the
// served snapshot, with no revision applied in between, before the
// publisher drops its watch and reloads.
const lagProbes = 3

// Probe reads the store's revision once (a networked store bounds the
// read by its request timeout). A failure marks the store unreachable and
// logs it once; the snapshot served stays. The first answer after
// failures logs that the store is back. A watch that stays behind the
// store for lagProbes probes is restarted, so the publisher converges even
// when its watch was lost silently while the store was away.
func (p *Publisher) Probe(ctx context.Context) {
	rev, err := p.st.Revision(ctx)
	if ctx.Err() != nil {
		return
	}
	now := time.Now()
	p.mu.Lock()
	was := p.state.Unreachable
	applied := p.applied
	onReach := p.onReach
	if err != nil {
		p.state.Err = err
		if !was {
			p.state.Unreachable, p.state.Since = true, now
		}
		entered := p.state
		p.mu.Unlock()
		if !was {
			p.log.Warn("store unreachable; DNS answers from the last snapshot, API writes fail with 503", "revision", applied, "err", err)
			if onReach != nil {
				entered.Revision = applied
				onReach(entered)
			}
		}
		return
	}
	down := p.state.Since
	if was {
		p.state = StoreState{Since: now}
	}
	restart := false
	if rev > applied && applied == p.lagAt {
		p.lagCount++
		restart = p.lagCount >= lagProbes
	} else {
		p.lagAt, p.lagCount = applied, 0
		if rev > applied {
			p.lagCount = 1
		}
	}
	if restart {
		p.lagCount = 0
	}
	cancel := p.watchCancel
	p.mu.Unlock()
	if was {
		p.log.Info("store reachable again", "revision", rev, "served", applied, "unreachable_for", now.Sub(down).Round(time.Millisecond))
		if onReach != nil {
			onReach(StoreState{Since: now, Revision: applied})
		}
	}
	if restart && cancel != nil {
		p.log.Warn("snapshot publisher behind the store; restarting its watch", "served", applied, "store", rev)
		cancel()
	}
}
