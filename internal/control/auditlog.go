package control

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/audit"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// AuditEntry is one entry of the audit log (schema.AuditEntry).
type AuditEntry = schema.AuditEntry

// AuditQuery selects entries of the audit log; zero fields select all.
type AuditQuery struct {
	Since, Until time.Time // Since <= Time < Until
	// Actor matches an entry whose actor's name or id is Actor, or
	// whose actor renders as Actor ("token:ops", "system:lease-reaper").
	Actor string
	// Object matches an entry whose stream is Object ("zone:example.com."),
	// whose stream is of the kind Object names ("token:", ending in a
	// colon), or whose object contains it.
	Object string
	// Limit bounds the entries returned (the oldest first); 0 for all.
	Limit int
}

func (q *AuditQuery) match(e *AuditEntry) bool {
	if !q.Since.IsZero() && e.Time.Before(q.Since) || !q.Until.IsZero() && !e.Time.Before(q.Until) {
		return false
	}
	if q.Actor != "" && q.Actor != e.Actor.Name && q.Actor != e.Actor.ID && q.Actor != e.Actor.Kind+":"+e.Actor.Name {
		return false
	}
	return q.Object == "" || q.Object == e.Stream || strings.Contains(e.Object, q.Object) ||
		strings.HasSuffix(q.Object, ":") && strings.HasPrefix(e.Stream, q.Object)
}

// List returns the entries q selects, oldest first (by time, then
// stream and sequence), and whether q.Limit left some out. The entries
// are kept by stream, so it reads them all; it holds at most twice
// q.Limit of them at once. An entry that cannot be read is an error:
// verify finds what is wrong with it.
func (s *Audit) List(ctx context.Context, q AuditQuery) ([]AuditEntry, bool, error) {
	var out []AuditEntry
	more := false
	keep := func() {
		sortEntries(out)
		if q.Limit > 0 && len(out) > q.Limit {
			out, more = out[:q.Limit], true
		}
	}
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		out, more = out[:0], false
		return tx.Scan(schema.PrefixAudit, "", func(key string, value []byte) error {
			e, err := schema.DecodeAuditEntry(key, value)
			if err != nil {
				return fmt.Errorf("%w (stratus audit verify says more)", err)
			}
			if q.match(e) {
				out = append(out, *e)
				if q.Limit > 0 && len(out) >= 2*q.Limit {
					keep()
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, false, err
	}
	keep()
	return out, more, nil
}

// sortEntries sorts entries by time, then stream and sequence.
func sortEntries(out []AuditEntry) {
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if a.Stream != b.Stream {
			return a.Stream < b.Stream
		}
		return a.Seq < b.Seq
	})
}

// AuditProblem is one thing verification found wrong: in which stream,
// at which entry (0 for the stream's head or checkpoint) and what.
type AuditProblem struct {
	Stream  string `json:"stream"`
	Seq     uint64 `json:"seq,omitempty"`
	Key     string `json:"key"`
	Problem string `json:"problem"`
}

// AuditStream is the state of one stream as verification found it.
type AuditStream struct {
	Stream string `json:"stream"`
	// First and Last are the sequence numbers of the entries kept (0, 0
	// when every entry is pruned); Pruned is the checkpoint's.
	First  uint64 `json:"first"`
	Last   uint64 `json:"last"`
	Pruned uint64 `json:"pruned,omitempty"`
	// Head is the MAC of the stream's newest entry: a list of heads kept
	// elsewhere shows a stream later set back to an older state.
	Head string `json:"head"`
}

// AuditReport is the result of Verify.
type AuditReport struct {
	Streams  []AuditStream  `json:"streams"`
	Entries  int            `json:"entries"`
	Problems []AuditProblem `json:"problems"`
}

// OK reports whether verification found nothing wrong.
func (r *AuditReport) OK() bool { return len(r.Problems) == 0 }

// streamCheck is the state of one stream during Verify.
type streamCheck struct {
	head     *schema.AuditHead
	cp       *schema.AuditCheckpoint
	first    uint64
	last     uint64 // sequence number of the last entry read (0: none)
	lastMAC  string
	linkKnow bool // lastMAC is the MAC the next entry must name
	headBad  bool // the head is there but cannot be read (reported)
	entries  int
}

// Verify checks every stream of the audit log with the audit key: each
// entry's MAC, each entry's link to the one before it (or to the
// checkpoint), that no sequence number is missing, and that the head
// and checkpoint are MACed and agree with the entries, and that the key
// is the one whose identity the store holds (CheckKey). It finds an
// entry altered, removed, added or moved by someone writing the store
// without the audit key. It cannot find a stream removed whole (its
// entries, head and checkpoint), nor a stream set back whole to an
// older state copied earlier: nothing left in the store names them.
func (s *Audit) Verify(ctx context.Context) (*AuditReport, error) {
	rep := &AuditReport{Problems: []AuditProblem{}, Streams: []AuditStream{}}
	problem := func(stream string, seq uint64, key, format string, args ...any) {
		rep.Problems = append(rep.Problems, AuditProblem{Stream: stream, Seq: seq, Key: key, Problem: fmt.Sprintf(format, args...)})
	}
	streams := map[string]*streamCheck{}
	get := func(stream string) *streamCheck {
		st := streams[stream]
		if st == nil {
			st = &streamCheck{}
			streams[stream] = st
		}
		return st
	}
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		clear(streams)
		rep.Problems, rep.Entries = rep.Problems[:0], 0
		if b, ok, err := tx.Get(schema.AuditKeyIDKey); err != nil {
			return err
		} else if ok {
			k, err := schema.DecodeAuditKeyID(schema.AuditKeyIDKey, b)
			switch {
			case err != nil:
				problem("", 0, schema.AuditKeyIDKey, "the audit key's identity cannot be read: %v", err)
			case !audit.Equal(k.ID, audit.KeyID(s.auditKey)):
				problem("", 0, schema.AuditKeyIDKey, "the audit key's identity the store holds is not this key's: the log is written with another key, or the identity was altered")
			}
		}
		err := tx.Scan(schema.PrefixAuditHeads, "", func(key string, value []byte) error {
			stream := strings.TrimPrefix(key, schema.PrefixAuditHeads)
			h, err := schema.DecodeAuditHead(key, value)
			if err != nil {
				problem(stream, 0, key, "the head cannot be read: %v", err)
				get(stream).headBad = true
				return nil
			}
			if !audit.Equal(h.HeadMAC, audit.MAC(s.auditKey, h.MACInput())) {
				problem(stream, 0, key, "the head's MAC does not match: the head was altered (or the audit key is not the one it was written with)")
			}
			get(stream).head = h
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Scan(schema.PrefixAuditCheckpoints, "", func(key string, value []byte) error {
			stream := strings.TrimPrefix(key, schema.PrefixAuditCheckpoints)
			c, err := schema.DecodeAuditCheckpoint(key, value)
			if err != nil {
				problem(stream, 0, key, "the checkpoint cannot be read: %v", err)
				return nil
			}
			if !audit.Equal(c.CheckpointMAC, audit.MAC(s.auditKey, c.MACInput())) {
				problem(stream, 0, key, "the checkpoint's MAC does not match: the checkpoint was altered")
			}
			st := get(stream)
			st.cp = c
			st.last, st.lastMAC, st.linkKnow = c.Seq, c.MAC, true
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Scan(schema.PrefixAudit, "", func(key string, value []byte) error {
			rep.Entries++
			stream, seq, ok := schema.ParseAuditEntryKey(key)
			if !ok {
				problem("", 0, key, "a key under %s that is not the key of an entry", schema.PrefixAudit)
				return nil
			}
			st := get(stream)
			st.entries++
			if st.first == 0 {
				st.first = seq
			}
			want := st.last + 1
			switch {
			case seq > want && want == 1:
				problem(stream, seq, key, "the stream starts at entry %d: entries 1 to %d were removed", seq, seq-1)
				st.linkKnow = false
			case seq > want:
				problem(stream, seq, key, "entries %d to %d are missing: removed", want, seq-1)
				st.linkKnow = false
			case seq < want:
				problem(stream, seq, key, "entry %d is kept, but the checkpoint says entries up to %d were pruned", seq, st.last)
			}
			st.last = seq
			e, err := schema.DecodeAuditEntry(key, value)
			if err != nil {
				problem(stream, seq, key, "the entry cannot be read: %v (moved, reordered or altered)", err)
				st.linkKnow = false
				return nil
			}
			if !audit.Equal(e.MAC, audit.MAC(s.auditKey, e.MACInput())) {
				problem(stream, seq, key, "the entry's MAC does not match: the entry was altered")
			}
			if e.Prev == "" && seq > 1 {
				problem(stream, seq, key, "the entry names no previous MAC: it was written after the stream's head had been removed (and any entries after %d with it)", seq-1)
			} else if st.linkKnow && e.Prev != st.lastMAC {
				problem(stream, seq, key, "the entry does not follow entry %d (its previous MAC differs): an entry was replaced or reordered", seq-1)
			}
			st.lastMAC, st.linkKnow = e.MAC, true
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(streams))
	for n := range streams {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st := streams[n]
		headKey := schema.AuditHeadKey(n)
		info := AuditStream{Stream: n}
		if st.entries > 0 {
			info.First, info.Last = st.first, st.last
		}
		if st.cp != nil {
			info.Pruned = st.cp.Seq
		}
		switch h := st.head; {
		case st.headBad:
		case h == nil && st.entries > 0:
			problem(n, 0, headKey, "the stream has entries but no head: its head was removed")
		case h == nil:
			problem(n, 0, headKey, "the stream has a checkpoint but no head: its head was removed")
		case h.Seq > st.last:
			problem(n, h.Seq, headKey, "the head names entry %d, the newest kept is %d: entries %d to %d were removed", h.Seq, st.last, st.last+1, h.Seq)
		case h.Seq < st.last:
			problem(n, st.last, headKey, "the head names entry %d, but entries up to %d are kept: entries were added without the audit key, or the head was set back", h.Seq, st.last)
		case st.linkKnow && h.MAC != st.lastMAC:
			problem(n, h.Seq, headKey, "the head's MAC is not entry %d's: the newest entry was replaced", h.Seq)
		}
		if st.head != nil {
			info.Head = st.head.MAC
		}
		rep.Streams = append(rep.Streams, info)
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool {
		a, b := rep.Problems[i], rep.Problems[j]
		if a.Stream != b.Stream {
			return a.Stream < b.Stream
		}
		return a.Seq < b.Seq
	})
	return rep, nil
}

// maxPrunesPerTxn bounds the entries one pruning transaction deletes
// (with the markers etcd adds for deletes and the checkpoint, well
// within etcd's default 128 operations).
const maxPrunesPerTxn = 50

// PruneResult says what Prune did.
type PruneResult struct {
	Entries int // entries deleted
	Streams int // streams with entries deleted
	Dropped int // streams gone entirely: every entry older than retention
}

// Prune deletes the entries older than the retention at now
// (Options.AuditRetention) and moves each stream's checkpoint to the
// last entry it deleted, so that verification still starts from there. A
// stream whose every entry is pruned, up to the one its head names, is
// removed whole, head and checkpoint with it, so that the log of objects
// long gone does not grow without bound. Entries are pruned in order and
// pruning stops at the first one within the retention: where entry times
// go backwards (nodes whose clocks differ, a clock stepped back), older
// entries after it wait for a later prune, and the stream keeps its head.
// The cluster's leader runs it.
func (s *Audit) Prune(ctx context.Context, now time.Time) (PruneResult, error) {
	var res PruneResult
	cutoff := now.Add(-s.opts.AuditRetention)
	var streams []string
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		streams = streams[:0]
		return tx.Scan(schema.PrefixAuditHeads, "", func(key string, _ []byte) error {
			streams = append(streams, strings.TrimPrefix(key, schema.PrefixAuditHeads))
			return nil
		})
	})
	if err != nil {
		return res, err
	}
	for _, stream := range streams {
		n, dropped, err := s.pruneStream(ctx, stream, cutoff, now)
		res.Entries += n
		if n > 0 {
			res.Streams++
		}
		if dropped {
			res.Dropped++
		}
		if err != nil {
			return res, err
		}
	}
	if res.Entries > 0 || res.Dropped > 0 {
		s.log.Info("audit log pruned", "entries", res.Entries, "streams", res.Streams, "streams_removed", res.Dropped, "before", cutoff)
	}
	return res, nil
}

// pruneStream prunes one stream, a transaction per maxPrunesPerTxn
// entries.
func (s *Audit) pruneStream(ctx context.Context, stream string, cutoff, now time.Time) (int, bool, error) {
	total := 0
	for {
		n, more, dropped, err := s.pruneSome(ctx, stream, cutoff, now)
		total += n
		if err != nil || !more {
			return total, dropped, err
		}
	}
}

func (s *Audit) pruneSome(ctx context.Context, stream string, cutoff, now time.Time) (n int, more, dropped bool, err error) {
	_, err = s.st.Update(ctx, func(tx store.Tx) error {
		n, more, dropped = 0, false, false
		headKey := schema.AuditHeadKey(stream)
		hb, ok, err := tx.Get(headKey)
		if err != nil || !ok {
			return err
		}
		h, err := schema.DecodeAuditHead(headKey, hb)
		if err != nil {
			return err
		}
		var keys []string
		var last *schema.AuditEntry
		kept := false // the stream has entries
		rest := false // entries are left after those pruned
		err = tx.Scan(schema.AuditEntryPrefix(stream), "", func(key string, value []byte) error {
			kept = true
			e, err := schema.DecodeAuditEntry(key, value)
			if err != nil {
				return err // never prune past what cannot be read: verify reports it
			}
			if !e.Time.Before(cutoff) || e.Seq > h.Seq {
				rest = true
				return store.ErrStopScan
			}
			if len(keys) == maxPrunesPerTxn {
				rest, more = true, true
				return store.ErrStopScan
			}
			keys, last = append(keys, key), e
			return nil
		})
		if err != nil {
			return err
		}
		cpKey := schema.AuditCheckpointKey(stream)
		if len(keys) == 0 {
			// Nothing to prune; a stream whose checkpoint already
			// reaches its head (every entry pruned) goes.
			cb, ok, err := tx.Get(cpKey)
			if err != nil || !ok {
				return err
			}
			c, err := schema.DecodeAuditCheckpoint(cpKey, cb)
			if err != nil || kept || c.Seq != h.Seq || c.MAC != h.MAC || !h.Time.Before(cutoff) {
				return err
			}
			dropped = true
			if err := tx.Delete(headKey); err != nil {
				return err
			}
			return tx.Delete(cpKey)
		}
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		if last.Seq == h.Seq && last.MAC == h.MAC && !rest {
			// The stream's every entry, up to the one its head names,
			// is pruned: it goes whole.
			dropped = true
			if err := tx.Delete(headKey); err != nil {
				return err
			}
			return tx.Delete(cpKey)
		}
		c := &schema.AuditCheckpoint{Stream: stream, Seq: last.Seq, MAC: last.MAC, Time: last.Time, Pruned: now.UTC()}
		c.CheckpointMAC = audit.MAC(s.auditKey, c.MACInput())
		b, err := schema.EncodeAuditCheckpoint(c)
		if err != nil {
			return err
		}
		return tx.Put(cpKey, b)
	})
	return n, more, dropped, err
}

// CheckKey makes sure that every node sharing the store writes the audit
// log with the same key, before it writes anything. The store keeps the
// identity of the log's key (schema.AuditKeyIDKey, audit.KeyID): the
// first node to start writes it, in one transaction with the check that
// it is absent, so that of nodes starting together on an empty store one
// writes it and the others compare their key with it. A key whose
// identity differs is refused, naming audit.key_file. A store written
// before the identity was kept has heads but no identity: a key that
// verifies any head is the log's, and its identity is written then; a
// key that verifies none is refused.
func (s *Audit) CheckKey(ctx context.Context) error {
	id := audit.KeyID(s.auditKey)
	var stored string
	var heads int
	var first string
	_, err := s.st.Update(ctx, func(tx store.Tx) error {
		stored, heads, first = "", 0, ""
		b, ok, err := tx.Get(schema.AuditKeyIDKey)
		if err != nil {
			return err
		}
		if ok {
			k, err := schema.DecodeAuditKeyID(schema.AuditKeyIDKey, b)
			if err != nil {
				return err
			}
			stored = k.ID
			return nil
		}
		verified := false
		err = tx.Scan(schema.PrefixAuditHeads, "", func(key string, value []byte) error {
			h, err := schema.DecodeAuditHead(key, value)
			if err != nil {
				return nil // verify reports it
			}
			if heads == 0 {
				first = h.Stream
			}
			heads++
			if audit.Equal(h.HeadMAC, audit.MAC(s.auditKey, h.MACInput())) {
				verified = true
				return store.ErrStopScan
			}
			return nil
		})
		if err != nil || heads > 0 && !verified {
			return err
		}
		kb, err := schema.EncodeAuditKeyID(&schema.AuditKeyID{ID: id, Created: s.opts.Clock().UTC()})
		if err != nil {
			return err
		}
		stored = id
		return tx.Put(schema.AuditKeyIDKey, kb)
	})
	switch {
	case err != nil:
		return err
	case stored == "":
		return fmt.Errorf("the audit key verifies none of the %d audit log heads in the store (stream %s first): every node sharing a store needs the same audit.key_file; copy it from a node already serving this store", heads, first)
	case !audit.Equal(stored, id):
		return fmt.Errorf("the audit key is not the one this store's audit log is written with (%s holds another key's identity): every node sharing a store needs the same audit.key_file; copy it from a node already serving this store", schema.AuditKeyIDKey)
	}
	return nil
}
