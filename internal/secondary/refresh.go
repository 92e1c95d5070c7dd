package secondary

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// refreshHook, when set (by tests), is called before each refresh.
var refreshHook func(model.Name)

// loop refreshes one zone until ctx is done.
func (m *Manager) loop(ctx context.Context, zl *zoneLoop) {
	lastOK := zl.get().State.Refreshed
	var timer clock.Timer // armed after the first refresh
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		sz := zl.get()
		if refreshHook != nil {
			refreshHook(sz.Name)
		}
		soa, err := m.refresh(ctx, sz)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		switch {
		case err == nil:
			lastOK = m.opts.Clock.Now()
			zl.setSOA(soa)
			wait = time.Duration(soa.Refresh) * time.Second
		case sz.SOA != nil:
			m.log.Warn("secondary zone refresh failed", "zone", sz.Name, "err", err, "retry", time.Duration(sz.SOA.Retry)*time.Second)
			wait = time.Duration(sz.SOA.Retry) * time.Second
			if !sz.State.Expired && !lastOK.IsZero() && clock.Since(m.opts.Clock, lastOK) > time.Duration(sz.SOA.Expire)*time.Second {
				if xerr := m.st.ExpireSecondary(ctx, sz.Name); xerr == nil {
					zl.setSOA(nil)
					m.opts.Alerts.Emit(alert.Event{Kind: alert.SecondaryExpired, Time: m.opts.Clock.Now(), Zone: string(sz.Name),
						Summary: "secondary zone " + string(sz.Name) + " expired: no primary answered for its SOA expire interval; it answers SERVFAIL",
						Details: map[string]string{"last_error": err.Error(), "expire": (time.Duration(sz.SOA.Expire) * time.Second).String()}})
				}
			}
		default:
			m.log.Warn("secondary zone has no data yet; transfer failed", "zone", sz.Name, "err", err, "retry", m.opts.FirstRetry)
			wait = m.opts.FirstRetry
		}
		wait = max(wait, time.Second)
		if timer == nil {
			timer = m.opts.Clock.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-timer.C():
		case <-zl.wake:
		case <-ctx.Done():
			return
		}
	}
}

// setSOA records the zone's SOA after a transfer (or nil after expiry),
// so that the next refresh compares with it.
func (zl *zoneLoop) setSOA(soa *model.SOAFields) {
	zl.mu.Lock()
	zl.zone.SOA = soa
	if soa == nil {
		zl.zone.State.Expired = true
	} else {
		zl.zone.State.Expired = false
	}
	zl.mu.Unlock()
}

// refresh asks the primaries, in order, for the zone's SOA and transfers
// the zone when a primary has a newer serial. It returns the zone's SOA
// afterwards.
func (m *Manager) refresh(ctx context.Context, sz control.SecondaryZone) (*model.SOAFields, error) {
	var errs []error
	for _, p := range sz.Primaries {
		soa, err := m.refreshFrom(ctx, sz, p)
		if err == nil {
			return soa, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", p.Address, err))
	}
	err := errors.Join(errs...)
	if _, merr := m.st.MarkRefreshed(ctx, sz.Name, err.Error()); merr != nil && ctx.Err() == nil {
		m.log.Warn("cannot record a refresh failure", "zone", sz.Name, "err", merr)
	}
	return nil, err
}

func (m *Manager) refreshFrom(ctx context.Context, sz control.SecondaryZone, p model.NotifyTarget) (*model.SOAFields, error) {
	key, err := m.key(ctx, p.Key)
	if err != nil {
		return nil, err
	}
	serial, err := m.querySOA(ctx, sz.Name, p, key)
	if err != nil {
		return nil, err
	}
	if sz.SOA != nil && !sz.State.Expired && !model.SerialLess(sz.SOA.Serial, serial) {
		if _, err := m.st.MarkRefreshed(ctx, sz.Name, ""); err != nil {
			return nil, err
		}
		return sz.SOA, nil
	}
	if sz.SOA != nil && !sz.State.Expired {
		soa, err := m.incremental(ctx, sz, p, key)
		if err == nil {
			return soa, nil
		}
		m.log.Info("incremental transfer failed; taking the whole zone", "zone", sz.Name, "primary", p.Address, "err", err)
	}
	return m.full(ctx, sz, p, key)
}

// key returns the TSIG key named k, or nil for "".
func (m *Manager) key(ctx context.Context, k model.Name) (*model.TSIGKey, error) {
	if k == "" {
		return nil, nil
	}
	return m.keys.TSIGKey(ctx, string(k))
}

// sign signs m with key, and returns the secrets a client verifies the
// answer with.
func sign(m *dns.Msg, key *model.TSIGKey) map[string]string {
	if key == nil {
		return nil
	}
	return key.Sign(m)
}

// querySOA asks primary p for the zone's SOA serial (over TCP if the
// answer is truncated).
func (m *Manager) querySOA(ctx context.Context, z model.Name, p model.NotifyTarget, key *model.TSIGKey) (uint32, error) {
	for _, netw := range []string{"udp", "tcp"} {
		q := new(dns.Msg)
		q.SetQuestion(string(z), dns.TypeSOA)
		q.RecursionDesired = false
		c := &dns.Client{Net: netw, Timeout: m.opts.Timeout, TsigSecret: sign(q, key)}
		r, _, err := c.ExchangeContext(ctx, q, p.Address.String())
		if err != nil {
			return 0, err
		}
		if r.Truncated && netw == "udp" {
			continue
		}
		if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
			return 0, fmt.Errorf("SOA query answered %s (authoritative: %v)", dns.RcodeToString[r.Rcode], r.Authoritative)
		}
		for _, rr := range r.Answer {
			if soa, ok := rr.(*dns.SOA); ok && dns.CanonicalName(soa.Hdr.Name) == string(z) {
				return soa.Serial, nil
			}
		}
		return 0, errors.New("SOA query answered no SOA")
	}
	return 0, errors.New("SOA query truncated over TCP")
}

// transfer runs one AXFR or IXFR and returns every record, once the whole
// transfer has arrived and verified.
func (m *Manager) transfer(ctx context.Context, q *dns.Msg, p model.NotifyTarget, key *model.TSIGKey) ([]dns.RR, error) {
	t := &dns.Transfer{DialTimeout: m.opts.Timeout, ReadTimeout: m.opts.TransferTimeout, TsigSecret: sign(q, key)}
	ch, err := t.In(q, p.Address.String())
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { t.Close() })
	defer stop()
	var rrs []dns.RR
	for env := range ch {
		if env.Error != nil {
			for range ch { // let the reader finish
			}
			return nil, env.Error
		}
		rrs = append(rrs, env.RR...)
		if len(rrs) > m.opts.MaxRecords {
			t.Close()
			for range ch {
			}
			return nil, fmt.Errorf("the primary sent more than %d records, the limit of one transfer (zones.max_records)", m.opts.MaxRecords)
		}
	}
	return rrs, ctx.Err()
}

// full takes the whole zone (AXFR) and loads it.
func (m *Manager) full(ctx context.Context, sz control.SecondaryZone, p model.NotifyTarget, key *model.TSIGKey) (_ *model.SOAFields, err error) {
	defer func() { m.countTransfer("axfr", err) }()
	q := new(dns.Msg)
	q.SetAxfr(string(sz.Name))
	start := time.Now() // network time, for the log: on the system clock
	rrs, err := m.transfer(ctx, q, p, key)
	if err != nil {
		return nil, fmt.Errorf("AXFR: %w", err)
	}
	sets, soa, err := parseFull(sz.Name, rrs)
	if err != nil {
		return nil, fmt.Errorf("AXFR: %w", err)
	}
	if _, err := m.st.LoadFromPrimary(ctx, sz.Name, sets, p.Address.String()); err != nil {
		return nil, fmt.Errorf("AXFR: cannot load: %w", err)
	}
	m.log.Info("secondary zone transferred", "zone", sz.Name, "type", "AXFR", "serial", soa.Serial, "records", len(rrs)-1,
		"primary", p.Address, "took", time.Since(start).Round(time.Millisecond))
	return soa, nil
}

// incremental takes the changes since the zone's serial (IXFR) and applies
// them; a primary that answers with the whole zone gets it loaded.
func (m *Manager) incremental(ctx context.Context, sz control.SecondaryZone, p model.NotifyTarget, key *model.TSIGKey) (soa *model.SOAFields, err error) {
	defer func() { m.countTransfer("ixfr", err) }()
	q := new(dns.Msg)
	q.SetIxfr(string(sz.Name), sz.SOA.Serial, ".", ".")
	start := time.Now() // network time, for the log: on the system clock
	rrs, err := m.transfer(ctx, q, p, key)
	if err != nil {
		return nil, err
	}
	if len(rrs) < 2 {
		return nil, errors.New("IXFR answered the SOA alone, though the primary's serial is newer")
	}
	if _, ok := rrs[1].(*dns.SOA); !ok {
		// The primary sent the whole zone instead (RFC 1995 section 4).
		sets, soa, err := parseFull(sz.Name, rrs)
		if err != nil {
			return nil, err
		}
		if _, err := m.st.LoadFromPrimary(ctx, sz.Name, sets, p.Address.String()); err != nil {
			return nil, err
		}
		m.log.Info("secondary zone transferred", "zone", sz.Name, "type", "IXFR", "incremental", false, "serial", soa.Serial,
			"records", len(rrs)-1, "primary", p.Address, "took", time.Since(start).Round(time.Millisecond))
		return soa, nil
	}
	deltas, soa, err := parseIncremental(sz.Name, rrs)
	if err != nil {
		return nil, err
	}
	if _, err := m.st.ApplyFromPrimary(ctx, sz.Name, deltas, p.Address.String()); err != nil {
		return nil, err
	}
	m.log.Info("secondary zone transferred", "zone", sz.Name, "type", "IXFR", "incremental", true, "from", sz.SOA.Serial, "serial", soa.Serial,
		"changes", len(deltas), "primary", p.Address, "took", time.Since(start).Round(time.Millisecond))
	return soa, nil
}
