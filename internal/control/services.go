package control

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/audit"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// ServiceWriteOptions apply to service writes.
type ServiceWriteOptions struct {
	// IfMatch, when set, is the service version the caller last read.
	IfMatch *uint64
	Actor   string
}

func (o *ServiceWriteOptions) check(s *model.Service) error {
	if o.IfMatch != nil && *o.IfMatch != s.Version {
		return &PreconditionError{Service: string(s.Name), Expected: *o.IfMatch, Current: s.Version}
	}
	return nil
}

func loadService(tx store.ReadTx, n model.Name) (*model.Service, error) {
	key := schema.ServiceKey(n)
	b, ok, err := tx.Get(key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrServiceNotFound, n)
	}
	return schema.DecodeService(key, b)
}

func saveService(tx store.Tx, s *model.Service) error {
	b, err := schema.EncodeService(s)
	if err != nil {
		return err
	}
	return tx.Put(schema.ServiceKey(s.Name), b)
}

// zoneOf returns the deepest zone that holds name.
func zoneOf(tx store.ReadTx, name model.Name) (model.Name, error) {
	for n := name; ; n = n.Parent() {
		_, ok, err := tx.Get(schema.ZoneKey(n))
		if err != nil {
			return "", err
		}
		if ok {
			return n, nil
		}
		if n == model.Root {
			return "", model.Errorf("name", "%s is in no zone this server serves; create the zone first", name)
		}
	}
}

// checkServiceName checks that a service may live at s.Name: inside a zone,
// not below a delegation, and without records that would conflict with
// its answers.
func checkServiceName(tx store.ReadTx, s *model.Service) error {
	z, err := zoneOf(tx, s.Name)
	if err != nil {
		return err
	}
	zr, err := loadZone(tx, z)
	if err != nil {
		return err
	}
	if zr.IsSecondary() {
		return model.Errorf("name", "%s is in the secondary zone %s, which takes its content from its primaries: a service needs a zone of this server's own", s.Name, z)
	}
	s.Zone = z
	for n := s.Name; n != z; n = n.Parent() {
		ns, err := getRRset(tx, z, model.Key{Name: n, Type: model.TypeNS})
		if err != nil {
			return err
		}
		if ns != nil {
			return model.Errorf("name", "%s is at or below the delegation %s in zone %s; a service cannot live there", s.Name, n, z)
		}
	}
	if s.Name == z && !s.Flatten {
		return model.Errorf("flatten", "a service at the zone apex %s must flatten hostnames into addresses (flatten: true): the apex cannot hold a CNAME", z)
	}
	sets, err := setsAt(tx, z, s.Name)
	if err != nil {
		return err
	}
	for _, set := range sets {
		switch {
		case set.Type == model.TypeA || set.Type == model.TypeAAAA || set.Type == model.TypeCNAME:
			return model.Errorf("name", "%s has %s records; a service answers A, AAAA and CNAME there itself (delete the records first)", s.Name, model.TypeString(set.Type))
		case !s.Flatten && s.Name != z:
			return model.Errorf("name", "%s has %s records, but a service that may answer a CNAME needs the name to itself (or set flatten: true)", s.Name, model.TypeString(set.Type))
		}
	}
	return nil
}

// CreateService creates a steered service.
func (s *Services) CreateService(ctx context.Context, svc model.Service, wo ServiceWriteOptions) (*model.Service, error) {
	svc.Normalize()
	if err := svc.Validate(); err != nil {
		return nil, err
	}
	now := s.opts.Clock().UTC()
	var out *model.Service
	rev, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		c := svc
		_, exists, err := tx.Get(schema.ServiceKey(c.Name))
		if err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("%w: %s", ErrServiceExists, c.Name)
		}
		if err := checkServiceName(tx, &c); err != nil {
			return err
		}
		c.Pools = keepOverrides(svc.Pools, nil)
		if err := model.RestoreRedacted(&c, nil); err != nil {
			return err
		}
		c.Created, c.Updated, c.Version = now, now, 1
		out = &c
		if err := saveService(tx, &c); err != nil {
			return err
		}
		return tx.serviceChange(ctx, c.Name, "service.create", "", wo.Actor)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("service created", "service", out.Name, "actor", wo.Actor)
	return out, s.published(ctx, rev)
}

// keepOverrides returns a copy of pools carrying the overrides that cur
// (nil for a new service) holds for pools of the same name. Overrides are
// operational state set through SetPoolOverride, so an override written in
// a service definition is ignored: applying a definition read earlier must
// neither clear nor resurrect one.
func keepOverrides(pools []model.Pool, cur *model.Service) []model.Pool {
	out := slices.Clone(pools)
	for i := range out {
		out[i].Override = nil
		if cur == nil {
			continue
		}
		if p := cur.Pool(out[i].Name); p != nil {
			out[i].Override = p.Override
		}
	}
	return out
}

// UpdateService replaces a service's definition (its endpoints stay).
func (s *Services) UpdateService(ctx context.Context, svc model.Service, wo ServiceWriteOptions) (*model.Service, error) {
	svc.Normalize()
	if err := svc.Validate(); err != nil {
		return nil, err
	}
	out, err := s.changeService(ctx, svc.Name, wo, "service.update", "", func(tx store.Tx, cur *model.Service) (*model.Service, error) {
		c := svc
		if err := checkServiceName(tx, &c); err != nil {
			return nil, err
		}
		eps, err := loadEndpoints(tx, c.Name)
		if err != nil {
			return nil, err
		}
		for _, e := range eps {
			if c.Pool(e.Pool) == nil {
				return nil, inUse("pools", "pool %q still has endpoint %q; delete or move its endpoints first", e.Pool, e.ID)
			}
		}
		c.Pools = keepOverrides(svc.Pools, cur)
		if err := model.RestoreRedacted(&c, cur); err != nil {
			return nil, err
		}
		return &c, nil
	})
	if out != nil {
		s.log.Info("service updated", "service", out.Name, "version", out.Version, "actor", wo.Actor)
	}
	return out, err
}

// changeService is the transaction of every change to an existing
// service: load it, check If-Match, let change make the next definition,
// stamp its version and time, save it and wait for it to be published.
// It returns the saved service whenever the change committed, with the
// error of waiting for the publication if that failed.
func (s *Services) changeService(ctx context.Context, name model.Name, wo ServiceWriteOptions, action, detail string, change func(tx store.Tx, cur *model.Service) (*model.Service, error)) (*model.Service, error) {
	now := s.opts.Clock().UTC()
	var out *model.Service
	rev, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		cur, err := loadService(tx, name)
		if err != nil {
			return err
		}
		if err := wo.check(cur); err != nil {
			return err
		}
		next, err := change(tx, cur)
		if err != nil {
			return err
		}
		next.Created, next.Updated, next.Version = cur.Created, now, cur.Version+1
		out = next
		if err := saveService(tx, next); err != nil {
			return err
		}
		return tx.serviceChange(ctx, name, action, detail, wo.Actor)
	})
	if err != nil {
		return nil, err
	}
	return out, s.published(ctx, rev)
}

// DeleteService deletes a service and its endpoints.
func (s *Services) DeleteService(ctx context.Context, name model.Name, wo ServiceWriteOptions) error {
	rev, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		cur, err := loadService(tx, name)
		if err != nil {
			return err
		}
		if err := wo.check(cur); err != nil {
			return err
		}
		n, err := tx.deleteEndpoints(name)
		if err != nil {
			return err
		}
		if err := tx.Delete(schema.ServiceKey(name)); err != nil {
			return err
		}
		return tx.serviceChange(ctx, name, "service.delete", fmt.Sprintf("with its %d endpoints", n), wo.Actor)
	})
	if err != nil {
		return err
	}
	s.log.Info("service deleted", "service", name, "actor", wo.Actor)
	return s.published(ctx, rev)
}

// deleteEndpoints deletes service name's endpoints, each with an
// endpoint.delete entry in its own stream, and returns how many. With
// the service's own key, entry and head, the transaction writes three
// keys per endpoint: under etcd's default --max-txn-ops (128) a service
// of more than 39 endpoints cannot be deleted (the commit fails, deleting
// nothing, with an error naming the flag; TestDeleteServiceEndpointsOnEtcd).
func (t *auditTx) deleteEndpoints(name model.Name) (int, error) {
	prefix := schema.EndpointPrefix(name)
	var keys []string
	err := t.Tx.Scan(prefix, "", func(key string, value []byte) error {
		if _, seen := t.before[key]; !seen && !t.written[key] {
			t.before[key] = audit.Digest(t.s.digestKey, value, true)
		}
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		return 0, err
	}
	object := " of service " + string(name)
	for _, k := range keys {
		if err := t.Delete(k); err != nil {
			return 0, err
		}
		id := strings.TrimPrefix(k, prefix)
		if err := t.change(schema.AuditEndpointStream(name, id), "endpoint.delete", "endpoint "+id+object, "with its service", k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// GetService returns one service.
func (s *Services) GetService(ctx context.Context, name model.Name) (*model.Service, error) {
	var out *model.Service
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		out, err = loadService(tx, name)
		return err
	})
	return out, err
}

// ListServices returns every service, sorted by name.
func (s *Services) ListServices(ctx context.Context) ([]*model.Service, error) {
	var out []*model.Service
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		out, err = scanServices(tx)
		return err
	})
	return out, err
}

// scanServices reads every service, sorted by name; a record that cannot
// be read is an error.
func scanServices(tx store.ReadTx) ([]*model.Service, error) {
	return schema.ScanServices(tx, schema.Fail)
}

// SetPoolOverride forces a pool up or down ("up", "down"), or clears the
// override (""), recording the actor.
func (s *Services) SetPoolOverride(ctx context.Context, name model.Name, pool, state, reason string, ttl time.Duration, wo ServiceWriteOptions) (*model.Service, error) {
	ov, err := s.override(state, reason, wo.Actor, ttl)
	if err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("pool %s: %s", pool, overrideDetail(state, reason, ttl))
	out, err := s.changeService(ctx, name, wo, "pool.override", detail, func(_ store.Tx, cur *model.Service) (*model.Service, error) {
		p := cur.Pool(pool)
		if p == nil {
			return nil, fmt.Errorf("%w: %q in service %s", ErrPoolNotFound, pool, name)
		}
		p.Override = ov
		return cur, nil
	})
	if out != nil {
		s.log.Info("pool override", "service", name, "pool", pool, "state", state, "actor", wo.Actor)
	}
	return out, err
}

func (s *core) override(state, reason, actor string, ttl time.Duration) (*model.Override, error) {
	switch state {
	case "", "up", "down":
	default:
		return nil, model.Errorf("state", "%q is not up, down or empty (to clear)", state)
	}
	// A cleared override is kept, empty, to record who cleared it.
	o := &model.Override{State: state, Actor: actor, Reason: reason, Time: s.opts.Clock().UTC()}
	switch {
	case ttl == 0:
	case state == "":
		return nil, model.Errorf("ttl", "a cleared override has no time limit")
	case ttl < model.MinOverrideTTL || ttl > model.MaxOverrideTTL:
		return nil, model.Errorf("ttl", "%v is outside %v..%v", ttl, model.MinOverrideTTL, model.MaxOverrideTTL)
	default:
		o.Expires = o.Time.Add(ttl)
	}
	return o, nil
}
