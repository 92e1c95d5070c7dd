package steerctl

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
)

// SteeredWriter stores the steered answers of a zone, as secondaries get
// them. *control.SteeredAnswers is one.
type SteeredWriter interface {
	SetSteeredAnswers(ctx context.Context, z model.Name, sets []*model.RRset, actor string) (control.ChangeResult, error)
	// SteeredZones lists the zones that have steered answers stored.
	SteeredZones(ctx context.Context) ([]model.Name, error)
}

// materializeActor is the journal's actor for steered answers.
const materializeActor = "steering"

// Materialize keeps every zone's steered answers (steer.CompiledService.Materialize:
// the answer for a client with no location) stored through w, so that a
// failover reaches secondaries as an IXFR. Changes within delay of one
// another are written together, one serial per zone. Zones that have
// answers stored but no service any more (the last one deleted while the
// server was down) are cleared at the first pass. It runs until ctx is
// done.
func (c *Controller) Materialize(ctx context.Context, w SteeredWriter, delay time.Duration) {
	written := map[model.Name][]*model.RRset{} // per zone, what was last stored
	stored, err := w.SteeredZones(ctx)
	if err != nil {
		c.log.Warn("cannot list the zones with steered answers stored; those without services keep theirs", "err", err)
	}
	for _, z := range stored {
		written[z] = nil // unknown: rewritten at the first pass
	}
	retry, gather := c.clk.NewTimer(time.Second), c.clk.NewTimer(delay)
	retry.Stop()
	gather.Stop()
	defer retry.Stop()
	defer gather.Stop()
	for {
		ch := c.changes()
		want := materializedByZone(c.cur.Load())
		for z := range written {
			if _, ok := want[z]; !ok {
				want[z] = nil // its last service went away
			}
		}
		failed := false
		mctx, span := c.traceMaterialize(ctx)
		for z, sets := range want {
			if prev, ok := written[z]; ok && prev != nil && sameSets(prev, sets) {
				continue
			}
			_, err := w.SetSteeredAnswers(mctx, z, sets, materializeActor)
			switch {
			case err == nil, errors.Is(err, control.ErrZoneNotFound):
				written[z] = sets
				if sets == nil {
					delete(written, z)
				}
			case ctx.Err() != nil:
				span.End()
				return
			default:
				c.log.Warn("cannot store steered answers for secondaries; retrying", "zone", z, "err", err)
				failed = true
			}
		}
		span.End()
		retry.Stop()
		if failed {
			retry.Reset(time.Second)
		}
		select {
		case <-ch:
		case <-retry.C():
		case <-ctx.Done():
			return
		}
		// Let the changes that follow closely join this write.
		gather.Reset(delay)
		select {
		case <-gather.C():
		case <-ctx.Done():
			return
		}
	}
}

// materializedByZone returns every service's steered answers as RRsets,
// grouped by zone and sorted.
func materializedByZone(snap *steer.Snapshot) map[model.Name][]*model.RRset {
	out := map[model.Name][]*model.RRset{}
	for _, svc := range snap.Services() {
		m := svc.Materialize()
		z, name := svc.Spec.Zone, svc.Spec.Name
		if _, ok := out[z]; !ok {
			out[z] = []*model.RRset{}
		}
		switch {
		case m.CNAME != nil:
			out[z] = append(out[z], &model.RRset{Name: name, Type: model.TypeCNAME, TTL: m.TTL, Rdata: [][]byte{m.CNAME}})
		default:
			if len(m.A) > 0 {
				out[z] = append(out[z], &model.RRset{Name: name, Type: model.TypeA, TTL: m.TTL, Rdata: sortedCopy(m.A)})
			}
			if len(m.AAAA) > 0 {
				out[z] = append(out[z], &model.RRset{Name: name, Type: model.TypeAAAA, TTL: m.TTL, Rdata: sortedCopy(m.AAAA)})
			}
		}
	}
	for _, sets := range out {
		slices.SortFunc(sets, func(a, b *model.RRset) int {
			if c := model.CompareCanonical(a.Name, b.Name); c != 0 {
				return c
			}
			return int(a.Type) - int(b.Type)
		})
	}
	return out
}

func sortedCopy(rds [][]byte) [][]byte {
	out := make([][]byte, len(rds))
	for i, rd := range rds {
		out[i] = append([]byte(nil), rd...)
	}
	slices.SortFunc(out, func(a, b []byte) int { return slices.Compare(a, b) })
	return out
}

func sameSets(a, b []*model.RRset) bool {
	return slices.EqualFunc(a, b, (*model.RRset).Equal)
}
