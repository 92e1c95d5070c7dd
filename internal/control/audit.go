package control

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/audit"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// The audit log is written here: every change appends one entry per
// object it changes, in the transaction of the change, to the object's
// stream (schema.AuditZoneStream and the others), chained to the
// stream's head with the audit key. A stream per object means that two
// writes share a head only when they already share the object's own
// key, so the log adds no conflict between writes that had none.

// auditChange is one entry to append: what was done to which object,
// with the digests of its stored encoding before and after.
type auditChange struct {
	stream, action, object, detail string
	before, after                  string
}

// origin is who acts and from where: the origin the caller put in ctx
// (the API's token, a DNS client's TSIG key), else the server itself,
// named by fallback (the actor string the write was given).
func origin(ctx context.Context, fallback string) audit.Origin {
	if o, ok := audit.FromContext(ctx); ok {
		return o
	}
	if fallback == "" {
		fallback = "system"
	}
	return audit.Origin{Actor: audit.System(fallback)}
}

// appendAudit appends one entry per change, in tx, each chained to its
// stream's head, and moves the heads on. It reads the heads with one
// store.GetMany.
func (s *core) appendAudit(ctx context.Context, tx store.Tx, fallback string, changes ...auditChange) error {
	if len(changes) == 0 {
		return nil
	}
	o := origin(ctx, fallback)
	now := s.opts.Clock().UTC()
	keys := make([]string, len(changes))
	for i, c := range changes {
		keys[i] = schema.AuditHeadKey(c.stream)
	}
	values, found, err := store.GetMany(tx, keys)
	if err != nil {
		return err
	}
	heads := map[string]*schema.AuditHead{}
	var order []*schema.AuditHead
	for i, c := range changes {
		h := heads[c.stream]
		if h == nil {
			if found[i] {
				if h, err = schema.DecodeAuditHead(keys[i], values[i]); err != nil {
					return err
				}
			} else if h, err = s.headless(tx, c.stream); err != nil {
				return err
			}
			heads[c.stream] = h
			order = append(order, h)
		}
		e := &schema.AuditEntry{
			Stream: c.stream, Seq: h.Seq + 1, Time: now, Actor: o.Actor, Source: o.Source,
			Action: c.action, Object: c.object, Detail: c.detail, Before: c.before, After: c.after, Prev: h.MAC,
		}
		e.MAC = audit.MAC(s.auditKey, e.MACInput())
		b, err := schema.EncodeAuditEntry(e)
		if err != nil {
			return err
		}
		if err := tx.Put(schema.AuditEntryKey(e.Stream, e.Seq), b); err != nil {
			return err
		}
		h.Seq, h.MAC, h.Time = e.Seq, e.MAC, now
	}
	for _, h := range order {
		h.HeadMAC = audit.MAC(s.auditKey, h.MACInput())
		b, err := schema.EncodeAuditHead(h)
		if err != nil {
			return err
		}
		if err := tx.Put(schema.AuditHeadKey(h.Stream), b); err != nil {
			return err
		}
	}
	return nil
}

// headless returns the head a stream without one goes on from: none
// for a new stream (or one pruned whole), which starts at entry 1. A
// stream with entries but no head has lost it (removed behind the
// server's back): its next entry follows the newest kept, so that no
// entry is written over, but names no previous MAC, so that verify
// reports the break at that entry for as long as it is kept, not a
// chain that looks whole. It reads the stream's entries, not its
// checkpoint, which only pruning writes.
func (s *core) headless(tx store.Tx, stream string) (*schema.AuditHead, error) {
	h := &schema.AuditHead{Stream: stream}
	err := tx.Scan(schema.AuditEntryPrefix(stream), "", func(key string, _ []byte) error {
		if _, seq, ok := schema.ParseAuditEntryKey(key); ok && seq > h.Seq {
			h.Seq = seq
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if h.Seq > 0 {
		s.log.Warn("audit stream has entries but no head: its next entry follows the newest, unlinked (stratus audit verify reports it)", "stream", stream, "newest", h.Seq)
	}
	return h, nil
}

// auditTx is a write transaction that remembers the digest of each key
// as it was before the transaction wrote it, so that a change's entry
// gets the digests of its object's stored encoding before and after
// without reading it twice. Every Update that writes an audited object
// runs on one (core.audited), records its changes with change, and
// appends their entries with commit.
type auditTx struct {
	store.Tx
	s       *core
	before  map[string]string // digest of the stored value; "" when absent
	written map[string]bool
	changes []auditChange
}

func (s *core) audited(tx store.Tx) *auditTx {
	return &auditTx{Tx: tx, s: s, before: map[string]string{}, written: map[string]bool{}}
}

func (t *auditTx) Get(key string) ([]byte, bool, error) {
	v, ok, err := t.Tx.Get(key)
	if err == nil && !t.written[key] {
		if _, seen := t.before[key]; !seen {
			t.before[key] = audit.Digest(t.s.digestKey, v, ok)
		}
	}
	return v, ok, err
}

// GetMany keeps the transaction's GetMany (one round trip on etcd).
func (t *auditTx) GetMany(keys []string) ([][]byte, []bool, error) {
	values, found, err := store.GetMany(t.Tx, keys)
	if err == nil {
		for i, k := range keys {
			if _, seen := t.before[k]; !seen && !t.written[k] {
				t.before[k] = audit.Digest(t.s.digestKey, values[i], found[i])
			}
		}
	}
	return values, found, err
}

func (t *auditTx) Put(key string, value []byte) error {
	if err := t.note(key); err != nil {
		return err
	}
	t.written[key] = true
	return t.Tx.Put(key, value)
}

func (t *auditTx) Delete(key string) error {
	if err := t.note(key); err != nil {
		return err
	}
	t.written[key] = true
	return t.Tx.Delete(key)
}

// note reads key's digest before the transaction writes it, unless the
// transaction read it already.
func (t *auditTx) note(key string) error {
	if _, seen := t.before[key]; seen || t.written[key] {
		return nil
	}
	_, _, err := t.Get(key)
	return err
}

// change records that the transaction did action to the object stored
// under key, which it has written (or chose to leave alone: then the
// digests are equal).
func (t *auditTx) change(stream, action, object, detail, key string) error {
	if err := t.note(key); err != nil {
		return err
	}
	v, ok, err := t.Tx.Get(key)
	if err != nil {
		return err
	}
	t.changes = append(t.changes, auditChange{stream: stream, action: action, object: object, detail: detail, before: t.before[key], after: audit.Digest(t.s.digestKey, v, ok)})
	return nil
}

// commit appends the entries of the changes recorded.
func (t *auditTx) commit(ctx context.Context, fallback string) error {
	return t.s.appendAudit(ctx, t.Tx, fallback, t.changes...)
}

// zoneDigests hashes the RRsets a change of zone records changes, as
// stored before and as written, in the order edit.commit writes them
// (the apex SOA first, then by owner name and type), each key and value
// prefixed by its length: the digests of the change's audit entry. It
// hashes the encoding it writes, so the sets are encoded once.
type zoneDigests struct {
	on            bool
	before, after setsHash
}

// put writes the new state of set k (deleting it when there is none),
// hashing it and its stored state.
func (d *zoneDigests) put(e *edit, k model.Key) error {
	key := schema.RRsetKey(e.zone, k)
	if d.on {
		if old, _ := e.stored(k); old != nil {
			b, err := schema.EncodeRRset(old)
			if err != nil {
				return err
			}
			d.before.add(key, b)
		}
	}
	s := e.next[k]
	if s == nil || len(s.Rdata) == 0 {
		return e.tx.Delete(key)
	}
	b, err := schema.EncodeRRset(s)
	if err != nil {
		return err
	}
	if d.on {
		d.after.add(key, b)
	}
	return e.tx.Put(key, b)
}

// setsHash is an HMAC-SHA256 under the digest key over key-value pairs,
// each key and value prefixed by its length.
type setsHash struct {
	key []byte
	h   hash.Hash
}

func (s *setsHash) add(key string, value []byte) {
	if s.h == nil {
		s.h = hmac.New(sha256.New, s.key)
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(key)))
	s.h.Write(n[:])
	s.h.Write([]byte(key))
	binary.BigEndian.PutUint32(n[:], uint32(len(value)))
	s.h.Write(n[:])
	s.h.Write(value)
}

// sum is the hex digest, "" when nothing was added.
func (s *setsHash) sum() string {
	if s.h == nil {
		return ""
	}
	return hex.EncodeToString(s.h.Sum(nil))
}

// zoneAudit is the entry of a change of zone records that edit.commit
// writes, with the digests d took of the RRsets it changed.
func (e *edit) zoneAudit(action string, keys []model.Key, d *zoneDigests, oldSerial, newSerial uint32) auditChange {
	var names []string
	for _, k := range keys {
		if !e.steered[k] {
			names = append(names, fmt.Sprintf("%s %s", k.Name, model.TypeString(k.Type)))
		}
	}
	const shown = 8
	detail := fmt.Sprintf("serial %d -> %d, %d RRsets", oldSerial, newSerial, len(names))
	if len(names) > shown {
		detail += ": " + strings.Join(names[:shown], ", ") + fmt.Sprintf(", and %d more", len(names)-shown)
	} else if len(names) > 0 {
		detail += ": " + strings.Join(names, ", ")
	}
	return auditChange{
		stream: schema.AuditZoneStream(e.zone), action: action, object: "zone " + string(e.zone), detail: detail,
		before: d.before.sum(), after: d.after.sum(),
	}
}

type auditActionKey struct{}

// withAuditAction names the action of the zone edit run under ctx in its
// audit entry (default "zone.change").
func withAuditAction(ctx context.Context, action string) context.Context {
	return context.WithValue(ctx, auditActionKey{}, action)
}

func auditAction(ctx context.Context, def string) string {
	if a, ok := ctx.Value(auditActionKey{}).(string); ok {
		return a
	}
	return def
}

func importAction(created bool) string {
	if created {
		return "zone.create"
	}
	return "zone.import"
}

// serviceChange records a change of service name's definition.
func (t *auditTx) serviceChange(ctx context.Context, name model.Name, action, detail, actor string) error {
	if err := t.change(schema.AuditServiceStream(name), action, "service "+string(name), detail, schema.ServiceKey(name)); err != nil {
		return err
	}
	return t.commit(ctx, actor)
}

// endpointChange records a change of endpoint id of service svc.
func (t *auditTx) endpointChange(ctx context.Context, svc model.Name, id, action, detail, actor string) error {
	if err := t.change(schema.AuditEndpointStream(svc, id), action, "endpoint "+id+" of service "+string(svc), detail, schema.EndpointKey(svc, id)); err != nil {
		return err
	}
	return t.commit(ctx, actor)
}

// overrideDetail describes an override as its entry shows it.
func overrideDetail(state, reason string, ttl time.Duration) string {
	d := "cleared"
	if state != "" {
		d = "forced " + state
	}
	if ttl > 0 {
		d += fmt.Sprintf(" for %s", ttl)
	}
	if reason != "" {
		d += ": " + reason
	}
	return d
}

// tokenChange records a change of token t (never its secret: the digest
// is of the stored record, whose secret is hashed).
func (t *auditTx) tokenChange(ctx context.Context, tok *auth.Token, action, actor string) error {
	detail := fmt.Sprintf("name %q, scopes %s", tok.Name, strings.Join(tok.Scopes, " "))
	if err := t.change(schema.AuditTokenStream(tok.ID), action, "token "+tok.ID, detail, schema.TokenKey(tok.ID)); err != nil {
		return err
	}
	return t.commit(ctx, actor)
}

// tsigChange records a change of the TSIG key named n.
func (t *auditTx) tsigChange(ctx context.Context, n model.Name, action, detail, actor string) error {
	if err := t.change(schema.AuditTSIGStream(n), action, "tsig key "+string(n), detail, schema.TSIGKey(n)); err != nil {
		return err
	}
	return t.commit(ctx, actor)
}

func principalName(p *auth.Principal) string {
	if p == nil {
		return ""
	}
	return p.Name
}
