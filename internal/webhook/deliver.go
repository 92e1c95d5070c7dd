package webhook

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// errPanicked is the error of an attempt that panicked: it is retried.
var errPanicked = errors.New("the attempt panicked (logged with its stack)")

// pending is one outbox entry as the leader delivers it.
type pending struct {
	e        control.OutboxEntry
	attempts int
	due      time.Time
	busy     bool
}

// Lead delivers the outbox until ctx (the leader's term) is done. While it
// runs, this node writes steering's alerts to the outbox too. Attempts
// in flight are cancelled when it returns; what they were delivering
// stays in the outbox for the next leader.
func (d *Dispatcher) Lead(ctx context.Context) {
	select {
	case <-d.ready:
	case <-ctx.Done():
		return
	}
	st := d.st
	d.mu.Lock()
	d.term = ctx
	d.counts = map[string]int{}
	d.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		d.mu.Lock()
		d.term, d.counts, d.fresh = nil, nil, nil
		d.mu.Unlock()
		cancel()
		wg.Wait()
		d.pending.Set(0)
	}()
	c := d.opts.Clock
	state := map[uint64]*pending{}
	results := make(chan attempt)
	timer := c.NewTimer(time.Hour)
	defer timer.Stop()
	var nextPoll time.Time // zero: read the outbox now
	var after uint64       // the last outbox entry read
	inFlight := 0
	perHook := map[string]int{} // attempts in flight, by webhook
	// free says whether an attempt at p may start now: a slot is free,
	// and p's webhook does not hold its share of them (a receiver that
	// hangs must not hold up the others).
	free := func(p *pending) bool { return inFlight < maxInFlight && perHook[p.e.Webhook] < maxPerHook }
	for {
		now := c.Now()
		if !now.Before(nextPoll) {
			after = d.scan(ctx, st, state, after)
			d.forgetDeleted(ctx, st)
			nextPoll = now.Add(d.opts.Poll)
		}
		seqs := make([]uint64, 0, len(state))
		for seq := range state {
			seqs = append(seqs, seq)
		}
		slices.Sort(seqs)
		for _, seq := range seqs {
			p := state[seq]
			if p.busy || p.due.After(now) || !free(p) {
				continue
			}
			if now.Sub(p.e.Created) >= d.opts.MaxAge {
				d.giveUp(ctx, st, state, p, "too old")
				continue
			}
			p.busy = true
			inFlight++
			perHook[p.e.Webhook]++
			wg.Add(1)
			go func(e control.OutboxEntry) {
				defer wg.Done()
				a := attempt{outcome: retry, err: errPanicked}
				telemetry.Guard(d.log, "webhook", func() { a = d.try(ctx, st, e) })
				a.seq = e.Seq
				select {
				case results <- a:
				case <-ctx.Done():
				}
			}(p.e)
		}
		d.pending.Set(float64(len(state)))
		d.count(state, after)
		wake := nextPoll
		for _, p := range state {
			// A delivery due that may not start waits for an attempt to
			// end (results), not for the timer.
			if !p.busy && p.due.Before(wake) && (p.due.After(now) || free(p)) {
				wake = p.due
			}
		}
		timer.Reset(max(wake.Sub(now), 0))
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		case <-d.kick:
			nextPoll = time.Time{}
		case a := <-results:
			inFlight--
			if p := state[a.seq]; p != nil {
				if perHook[p.e.Webhook]--; perHook[p.e.Webhook] <= 0 {
					delete(perHook, p.e.Webhook)
				}
			}
			d.settle(ctx, st, state, a)
		}
	}
}

// scan reads the entries added to the outbox since the last one read
// (after; 0: from the first), a page at a time: new entries are due now.
// Sequence numbers follow the commit order, so nothing is added behind
// after; an entry removed by another (its webhook deleted) is found gone
// when it is tried. It returns the last entry read.
func (d *Dispatcher) scan(ctx context.Context, st Store, state map[uint64]*pending, after uint64) uint64 {
	now := d.opts.Clock.Now()
	for {
		entries, last, err := st.OutboxPage(ctx, after, outboxPage)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("reading the webhook outbox", "err", err)
			}
			return after
		}
		for _, e := range entries {
			if state[e.Seq] == nil {
				state[e.Seq] = &pending{e: e, due: now}
			}
		}
		if last == 0 {
			return after
		}
		after = last
	}
}

// count sets the pending deliveries to each webhook from state, the
// entries read up to after, and forgets the entries this node wrote that
// are among them.
func (d *Dispatcher) count(state map[uint64]*pending, after uint64) {
	counts := map[string]int{}
	for _, p := range state {
		counts[p.e.Webhook]++
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.counts = counts
	d.fresh = slices.DeleteFunc(d.fresh, func(e control.OutboxEntry) bool { return e.Seq <= after })
}

// forgetDeleted deletes the delivery series of the webhooks deleted.
func (d *Dispatcher) forgetDeleted(ctx context.Context, st Store) {
	d.mu.Lock()
	n := len(d.series)
	d.mu.Unlock()
	if n == 0 {
		return
	}
	hooks, err := st.Webhooks(ctx)
	if err != nil {
		return // the next poll tries again
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for name := range d.series {
		if !slices.ContainsFunc(hooks, func(w control.Webhook) bool { return w.Name == name }) {
			d.forget(name)
		}
	}
}

// forget deletes the delivery series of webhook name; d.mu is held.
func (d *Dispatcher) forget(name string) {
	d.deliveries.DeletePartialMatch(prometheus.Labels{"webhook": name})
	delete(d.series, name)
}

// counted counts an attempt's result.
func (d *Dispatcher) counted(name, result string) {
	d.mu.Lock()
	d.series[name] = true
	d.mu.Unlock()
	d.deliveries.WithLabelValues(name, result).Inc()
}

// try makes one attempt at entry e, with the webhook as stored now.
func (d *Dispatcher) try(ctx context.Context, st Store, e control.OutboxEntry) attempt {
	w, err := st.Webhook(ctx, e.Webhook)
	if errors.Is(err, control.ErrWebhookNotFound) {
		return attempt{outcome: gone}
	}
	if err != nil {
		return attempt{outcome: retry, err: err}
	}
	return d.send(ctx, w, e.Kind, e.Delivery, e.Payload)
}

// settle acts on an attempt's result.
func (d *Dispatcher) settle(ctx context.Context, st Store, state map[uint64]*pending, a attempt) {
	p := state[a.seq]
	if p == nil {
		return
	}
	p.busy = false
	p.attempts++
	log := d.log.With("webhook", p.e.Webhook, "delivery", p.e.Delivery, "kind", p.e.Kind, "attempt", p.attempts)
	switch a.outcome {
	case delivered:
		d.counted(p.e.Webhook, "ok")
		log.Info("alert delivered", "status", a.status)
		d.remove(ctx, st, state, p)
	case gone:
		log.Info("alert dropped: its webhook was deleted")
		d.mu.Lock()
		d.forget(p.e.Webhook)
		d.mu.Unlock()
		d.remove(ctx, st, state, p)
	case refused:
		d.counted(p.e.Webhook, "failed")
		log.Warn("alert refused by the receiver; not retried", "status", a.status, "err", a.err)
		d.remove(ctx, st, state, p)
	case retry:
		if ctx.Err() != nil {
			return
		}
		now := d.opts.Clock.Now()
		wait := a.retryAfter
		if wait <= 0 {
			wait = d.backoff(p.attempts)
		}
		if now.Add(wait).Sub(p.e.Created) >= d.opts.MaxAge {
			d.giveUp(ctx, st, state, p, "too old to retry")
			return
		}
		d.counted(p.e.Webhook, "retry")
		p.due = now.Add(wait)
		log.Warn("alert not delivered; retrying", "status", a.status, "err", a.err, "in", wait)
	}
}

func (d *Dispatcher) giveUp(ctx context.Context, st Store, state map[uint64]*pending, p *pending, why string) {
	d.counted(p.e.Webhook, "failed")
	d.log.Warn("alert given up: "+why, "webhook", p.e.Webhook, "delivery", p.e.Delivery, "kind", p.e.Kind, "created", p.e.Created, "attempts", p.attempts)
	d.remove(ctx, st, state, p)
}

// remove deletes p from the outbox. When the store refuses, it stays
// there and is tried again; the receiver sees the same delivery id.
func (d *Dispatcher) remove(ctx context.Context, st Store, state map[uint64]*pending, p *pending) {
	if err := st.DeleteOutbox(ctx, p.e.Seq); err != nil {
		if ctx.Err() == nil {
			d.log.Warn("removing a delivery from the webhook outbox", "delivery", p.e.Delivery, "err", err)
			p.due = d.opts.Clock.Now().Add(d.opts.Poll)
		}
		return
	}
	delete(state, p.e.Seq)
}
