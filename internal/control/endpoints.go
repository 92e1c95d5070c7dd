package control

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

func loadEndpoint(tx store.ReadTx, svc model.Name, id string) (*model.Endpoint, error) {
	key := schema.EndpointKey(svc, id)
	b, ok, err := tx.Get(key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s in service %s", ErrEndpointNotFound, id, svc)
	}
	return schema.DecodeEndpoint(key, b)
}

func saveEndpoint(tx store.Tx, e *model.Endpoint) error {
	b, err := schema.EncodeEndpoint(e)
	if err != nil {
		return err
	}
	return tx.Put(schema.EndpointKey(e.Service, e.ID), b)
}

// loadEndpoints reads the endpoints of service svc; one that cannot be
// read is an error.
func loadEndpoints(tx store.ReadTx, svc model.Name) ([]*model.Endpoint, error) {
	return schema.ScanEndpoints(tx, svc, schema.Fail)
}

// RegisterEndpoint creates or replaces an endpoint of a service. It is
// idempotent by endpoint id: registering the same endpoint again renews its
// lease (a registration without a ttl keeps the lease it had) and keeps its
// override, also when the address or pool changed. It reports whether the
// endpoint is new.
func (s *Endpoints) RegisterEndpoint(ctx context.Context, svcName model.Name, ep model.Endpoint, actor string) (*model.Endpoint, bool, error) {
	ep.Service = svcName
	ep.Normalize()
	var out *model.Endpoint
	var created bool
	rev, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		svc, err := loadService(tx, svcName)
		if err != nil {
			return err
		}
		if err := ep.Validate(svc); err != nil {
			return err
		}
		now := s.opts.Clock().UTC()
		e := ep
		e.Override = nil // set only through SetEndpointOverride
		cur, err := loadEndpoint(tx, svcName, ep.ID)
		switch {
		case err == nil:
			e.Created = cur.Created
			// An override is the operator's (services:write), and only
			// the override API clears it: a registration, even at
			// another address or in another pool, keeps it, so that
			// an endpoints:write token cannot undo a drain by
			// registering the id again elsewhere.
			e.Override = cur.Override
			if !e.Leased() && cur.Leased() {
				// A lease is only ever given up by deregistering: a
				// registration that forgets its ttl must not turn a
				// function's endpoint into one that never lapses.
				e.LeaseTTL = cur.LeaseTTL
			}
		case errors.Is(err, ErrEndpointNotFound):
			n, err := tx.Count(schema.EndpointPrefix(svcName))
			if err != nil {
				return err
			}
			if n >= model.MaxEndpoints {
				return model.Errorf("id", "service %s already has %d endpoints, the most a service may have", svcName, n)
			}
			e.Created = now
			created = true
		default:
			return err
		}
		e.Renewed = now
		e.Expires = time.Time{}
		if e.Leased() {
			e.Expires = now.Add(e.LeaseTTL.D())
		}
		out = &e
		if err := saveEndpoint(tx, &e); err != nil {
			return err
		}
		detail := fmt.Sprintf("pool %s, address %s", e.Pool, e.Address)
		if e.Leased() {
			detail += fmt.Sprintf(", lease %s", e.LeaseTTL)
		}
		return tx.endpointChange(ctx, svcName, e.ID, "endpoint.register", detail, actor)
	})
	if err != nil {
		return nil, false, err
	}
	s.renewals.metrics.registered()
	if created {
		s.log.Info("endpoint registered", "service", svcName, "endpoint", ep.ID, "address", ep.Address, "lease", ep.LeaseTTL, "actor", actor)
	}
	return out, created, s.published(ctx, rev)
}

// DeregisterEndpoint deletes an endpoint.
func (s *Endpoints) DeregisterEndpoint(ctx context.Context, svcName model.Name, id, actor string) error {
	rev, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		if _, err := loadEndpoint(tx, svcName, id); err != nil {
			return err
		}
		if err := tx.Delete(schema.EndpointKey(svcName, id)); err != nil {
			return err
		}
		return tx.endpointChange(ctx, svcName, id, "endpoint.deregister", "", actor)
	})
	if err != nil {
		return err
	}
	s.log.Info("endpoint deregistered", "service", svcName, "endpoint", id, "actor", actor)
	return s.published(ctx, rev)
}

// SetEndpointOverride forces an endpoint up or down, or clears the
// override ("").
func (s *Endpoints) SetEndpointOverride(ctx context.Context, svcName model.Name, id, state, reason, actor string, ttl time.Duration) (*model.Endpoint, error) {
	ov, err := s.override(state, reason, actor, ttl)
	if err != nil {
		return nil, err
	}
	var out *model.Endpoint
	rev, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		e, err := loadEndpoint(tx, svcName, id)
		if err != nil {
			return err
		}
		e.Override = ov
		out = e
		if err := saveEndpoint(tx, e); err != nil {
			return err
		}
		return tx.endpointChange(ctx, svcName, id, "endpoint.override", overrideDetail(state, reason, ttl), actor)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("endpoint override", "service", svcName, "endpoint", id, "state", state, "actor", actor)
	return out, s.published(ctx, rev)
}

// Endpoint returns one endpoint of a service.
func (s *Endpoints) Endpoint(ctx context.Context, svcName model.Name, id string) (*model.Endpoint, error) {
	var out *model.Endpoint
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		if _, err := loadService(tx, svcName); err != nil {
			return err
		}
		var err error
		out, err = loadEndpoint(tx, svcName, id)
		return err
	})
	return out, err
}

// PushEndpoint returns an endpoint that may report its own health: one in
// a pool whose check type is push.
func (s *Endpoints) PushEndpoint(ctx context.Context, svcName model.Name, id string) (*model.Endpoint, error) {
	var out *model.Endpoint
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		svc, err := loadService(tx, svcName)
		if err != nil {
			return err
		}
		e, err := loadEndpoint(tx, svcName, id)
		if err != nil {
			return err
		}
		if p := svc.Pool(e.Pool); p == nil || p.Check.Type != model.CheckPush {
			typ := "none"
			if p != nil {
				typ = p.Check.Type
			}
			return model.Errorf("id", "endpoint %s is in pool %s, whose check type is %s: only pools with check type push take reports", id, e.Pool, typ)
		}
		out = e
		return nil
	})
	return out, err
}

// Endpoints returns a service's endpoints, sorted by pool and id.
func (s *Endpoints) Endpoints(ctx context.Context, svcName model.Name) ([]*model.Endpoint, error) {
	var out []*model.Endpoint
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		if _, err := loadService(tx, svcName); err != nil {
			return err
		}
		var err error
		out, err = loadEndpoints(tx, svcName)
		return err
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pool != out[j].Pool {
			return out[i].Pool < out[j].Pool
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// ReapLapsed deletes the endpoints whose leases lapsed before now and
// returns them. They left the answers when their leases lapsed; this only
// cleans up the store.
func (s *Endpoints) ReapLapsed(ctx context.Context, now time.Time) ([]*model.Endpoint, error) {
	// Find them in a read transaction, so that writers do not wait on a
	// scan of every endpoint, reading only their leases; then delete
	// those still lapsed. The scan is a listing for steering's upkeep:
	// an endpoint that cannot be read is logged (skipLog) and not
	// reaped.
	pass := s.skips.pass(s.log, now)
	defer pass.done()
	var keys []string
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		keys = keys[:0]
		return schema.ScanLeases(tx, pass.skip, func(key string, l *schema.Lease) error {
			if l.Lapsed(now) {
				keys = append(keys, key)
			}
			return nil
		})
	})
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	var gone []*model.Endpoint
	for len(keys) > 0 {
		n := min(len(keys), maxReapsPerTxn)
		g, err := s.reap(ctx, keys[:n], now, pass.skip)
		gone = append(gone, g...)
		if err != nil {
			return gone, err
		}
		keys = keys[n:]
	}
	return gone, nil
}

// maxReapsPerTxn bounds the endpoints one transaction of the reaper
// deletes: each also writes its audit entry and head, and on etcd a
// transaction writes at most 126 keys (deletion markers included) under
// the default limits.
const maxReapsPerTxn = 20

// reap deletes, in one transaction, those of the endpoints stored under
// keys whose leases lapsed before now, each with its audit entry (actor
// system "lease-reaper"), and returns them.
func (s *Endpoints) reap(ctx context.Context, keys []string, now time.Time, skip schema.OnCorrupt) ([]*model.Endpoint, error) {
	var gone []*model.Endpoint
	_, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		gone = gone[:0]
		for _, k := range keys {
			b, ok, err := tx.Get(k)
			if err != nil {
				return err
			}
			if !ok {
				continue // removed meanwhile
			}
			// Read as the scan did: a record it cannot read is left
			// out, and never stops the reaping of the others.
			e, err := schema.DecodeEndpoint(k, b)
			if err != nil {
				skip(k, err)
				continue
			}
			if !e.Lapsed(now) {
				continue // renewed meanwhile
			}
			if err := tx.Delete(k); err != nil {
				return err
			}
			detail := "lease lapsed at " + e.Expires.Format(time.RFC3339Nano)
			if err := tx.change(schema.AuditEndpointStream(e.Service, e.ID), "endpoint.lapse", "endpoint "+e.ID+" of service "+string(e.Service), detail, k); err != nil {
				return err
			}
			gone = append(gone, e)
		}
		return tx.commit(ctx, "lease-reaper")
	})
	if err != nil {
		return nil, err
	}
	for _, e := range gone {
		s.log.Info("endpoint lease lapsed; removed", "service", e.Service, "endpoint", e.ID, "expired", e.Expires)
	}
	return gone, nil
}
