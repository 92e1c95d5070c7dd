package control

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

var testAuditKey = []byte("0123456789abcdef0123456789abcdef")

// auditedZone is an env whose zone example.com. has audit entries 1
// (its creation) to 1+changes.
func auditedZone(t *testing.T, opts Options, changes int) (*env, model.Name) {
	t.Helper()
	opts.AuditKey = testAuditKey
	e := newEnv(t, opts)
	z := mustCreate(t, e, "example.com.", "")
	for i := range changes {
		if _, err := e.svc.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, fmt.Sprintf("h%d.example.com.", i), "A", 300, "192.0.2.1")}, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return e, z
}

// raw reads the value stored under key.
func raw(t *testing.T, st store.Store, key string) []byte {
	t.Helper()
	var out []byte
	if err := st.View(ctx, func(tx store.ReadTx) error {
		v, ok, err := tx.Get(key)
		if !ok && err == nil {
			err = fmt.Errorf("no key %s", key)
		}
		out = append([]byte(nil), v...)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// write puts (value != nil) or deletes keys behind the control plane's
// back, as someone with access to the store alone could.
func write(t *testing.T, st store.Store, kv map[string][]byte) {
	t.Helper()
	if _, err := st.Update(ctx, func(tx store.Tx) error {
		for k, v := range kv {
			var err error
			if v == nil {
				err = tx.Delete(k)
			} else {
				err = tx.Put(k, v)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// edited returns the JSON value b with fields set.
func edited(t *testing.T, b []byte, fields map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		m[k] = v
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAuditVerifyFindsTampering: an entry altered, removed, added or
// reordered in the store, or a head or checkpoint altered, is found and
// reported with its stream, entry and what is wrong.
func TestAuditVerifyFindsTampering(t *testing.T) {
	const stream = "zone:example.com."
	entry := func(seq uint64) string { return schema.AuditEntryKey(stream, seq) }
	head := schema.AuditHeadKey(stream)
	type problem struct {
		seq  uint64
		text string
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, e *env, oldHead []byte)
		want   []problem
	}{
		{"nothing", func(*testing.T, *env, []byte) {}, nil},
		{"entry altered", func(t *testing.T, e *env, _ []byte) {
			write(t, e.st, map[string][]byte{entry(2): edited(t, raw(t, e.st, entry(2)), map[string]any{"detail": "nothing to see"})})
		}, []problem{{2, "MAC does not match: the entry was altered"}}},
		{"actor rewritten", func(t *testing.T, e *env, _ []byte) {
			write(t, e.st, map[string][]byte{entry(3): edited(t, raw(t, e.st, entry(3)), map[string]any{"actor": map[string]any{"kind": "system", "name": "steering"}})})
		}, []problem{{3, "MAC does not match"}}},
		{"entry removed", func(t *testing.T, e *env, _ []byte) {
			write(t, e.st, map[string][]byte{entry(2): nil})
		}, []problem{{3, "entries 2 to 2 are missing: removed"}}},
		{"first entry removed", func(t *testing.T, e *env, _ []byte) {
			write(t, e.st, map[string][]byte{entry(1): nil})
		}, []problem{{2, "the stream starts at entry 2: entries 1 to 1 were removed"}}},
		{"newest entry removed", func(t *testing.T, e *env, _ []byte) {
			write(t, e.st, map[string][]byte{entry(4): nil})
		}, []problem{{4, "the head names entry 4, the newest kept is 3: entries 4 to 4 were removed"}}},
		{"newest entry removed, head set back", func(t *testing.T, e *env, oldHead []byte) {
			write(t, e.st, map[string][]byte{entry(4): nil, head: edited(t, raw(t, e.st, head), map[string]any{"seq": 3})})
		}, []problem{{0, "the head's MAC does not match"}, {3, "the head's MAC is not entry 3's"}}},
		{"newest entry removed, an older head put back", func(t *testing.T, e *env, oldHead []byte) {
			write(t, e.st, map[string][]byte{entry(4): nil, head: oldHead})
		}, nil}, // undetectable from the store alone: the heads kept elsewhere show it (below)
		{"head removed", func(t *testing.T, e *env, _ []byte) {
			write(t, e.st, map[string][]byte{head: nil})
		}, []problem{{0, "the stream has entries but no head"}}},
		{"entries swapped", func(t *testing.T, e *env, _ []byte) {
			two, three := raw(t, e.st, entry(2)), raw(t, e.st, entry(3))
			write(t, e.st, map[string][]byte{entry(2): three, entry(3): two})
		}, []problem{{2, "the record has sequence number 3, its key names 2"}, {3, "the record has sequence number 2, its key names 3"}}},
		{"entries swapped, sequence numbers rewritten", func(t *testing.T, e *env, _ []byte) {
			two, three := raw(t, e.st, entry(2)), raw(t, e.st, entry(3))
			write(t, e.st, map[string][]byte{entry(2): edited(t, three, map[string]any{"seq": 2}), entry(3): edited(t, two, map[string]any{"seq": 3})})
		}, []problem{{2, "MAC does not match"}, {2, "does not follow entry 1"}, {3, "MAC does not match"}, {3, "does not follow entry 2"}, {4, "does not follow entry 3"}}},
		{"entry forged at the end", func(t *testing.T, e *env, _ []byte) {
			write(t, e.st, map[string][]byte{entry(5): edited(t, raw(t, e.st, entry(4)), map[string]any{"seq": 5})})
		}, []problem{{5, "MAC does not match"}, {5, "does not follow entry 4"}, {5, "the head names entry 4, but entries up to 5 are kept"}}},
		{"entry of another stream moved in", func(t *testing.T, e *env, _ []byte) {
			mustCreate(t, e, "other.example.", "")
			write(t, e.st, map[string][]byte{entry(2): raw(t, e.st, schema.AuditEntryKey("zone:other.example.", 1))})
		}, []problem{{2, `the record is of stream "zone:other.example.", its key names "zone:example.com."`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := auditedZone(t, Options{}, 2)
			oldHead := raw(t, e.st, head)
			if _, err := e.svc.Zones.Apply(asOps, "example.com.", []model.Change{change(t, model.OpAdd, "last.example.com.", "A", 300, "192.0.2.1")}, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			before, err := e.svc.Audit.Verify(ctx)
			if err != nil || !before.OK() {
				t.Fatalf("before tampering: %+v %v", before, err)
			}
			tc.tamper(t, e, oldHead)
			rep, err := e.svc.Audit.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems) != len(tc.want) {
				t.Errorf("%d problems, want %d: %+v", len(rep.Problems), len(tc.want), rep.Problems)
			}
			for i, p := range rep.Problems {
				if i >= len(tc.want) {
					break
				}
				if w := tc.want[i]; p.Stream != stream || p.Seq != w.seq || !strings.Contains(p.Problem, w.text) || p.Key == "" {
					t.Errorf("problem %d: %+v, want entry %d: %q", i, p, w.seq, w.text)
				}
			}
			if tc.name == "newest entry removed, an older head put back" {
				// The head verify reported before is not the one it reports now.
				if before.Streams[0].Head == rep.Streams[0].Head || rep.Streams[0].Last != 3 {
					t.Errorf("heads before %+v and after %+v", before.Streams, rep.Streams)
				}
			}
		})
	}
}

// TestAuditVerifyOtherKey: a log written under one key does not verify
// under another, and CheckKey refuses the other key.
func TestAuditVerifyOtherKey(t *testing.T) {
	e, _ := auditedZone(t, Options{}, 1)
	other := New(e.st, e.pub, Options{AuditKey: []byte("another key of thirty-two bytes!")})
	rep, err := other.Audit.Verify(ctx)
	if err != nil || rep.OK() {
		t.Fatalf("verify under another key: %+v %v", rep, err)
	}
	if err := other.Audit.CheckKey(ctx); err == nil || !strings.Contains(err.Error(), "audit.key_file") {
		t.Errorf("CheckKey of another key: %v", err)
	}
	if err := e.svc.Audit.CheckKey(ctx); err != nil {
		t.Errorf("CheckKey of the log's key: %v", err)
	}
}

// TestAuditPrune: entries older than the retention go, the checkpoint
// keeps the chain verifiable, tampering with what remains (or with the
// checkpoint) is still found, and a stream whose every entry is old goes
// whole.
func TestAuditPrune(t *testing.T) {
	const stream = "zone:example.com."
	e, z := auditedZone(t, Options{AuditRetention: 24 * time.Hour}, 60) // entries 1..61, more than one pruning transaction
	mustCreate(t, e, "quiet.example.", "")
	start := e.now
	e.now = e.now.Add(48 * time.Hour)
	for i := range 2 { // entries 62, 63
		if _, err := e.svc.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, fmt.Sprintf("new%d.example.com.", i), "A", 300, "192.0.2.1")}, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing is old enough a day after the first entries.
	if res, err := e.svc.Audit.Prune(ctx, start.Add(23*time.Hour)); err != nil || res.Entries != 0 || res.Dropped != 0 {
		t.Fatalf("prune before the retention: %+v %v", res, err)
	}
	res, err := e.svc.Audit.Prune(ctx, e.now)
	if err != nil || res.Entries != 62 || res.Dropped != 1 {
		t.Fatalf("prune: %+v %v, want the 61 old entries of %s and the quiet zone's one, its stream removed", res, err, stream)
	}
	entries, _, err := e.svc.Audit.List(ctx, AuditQuery{})
	if err != nil || len(entries) != 2 || entries[0].Seq != 62 {
		t.Fatalf("kept: %+v %v", entries, err)
	}
	rep, err := e.svc.Audit.Verify(ctx)
	if err != nil || !rep.OK() || len(rep.Streams) != 1 || rep.Streams[0].Pruned != 61 || rep.Streams[0].First != 62 {
		t.Fatalf("verify after pruning: %+v %v", rep, err)
	}
	// The quiet zone's stream starts again with its next change.
	if _, err := e.svc.Zones.Apply(asOps, "quiet.example.", []model.Change{change(t, model.OpAdd, "a.quiet.example.", "A", 300, "192.0.2.1")}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if rep, err := e.svc.Audit.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("verify after a pruned stream starts again: %+v %v", rep, err)
	}

	cp := schema.AuditCheckpointKey(stream)
	kept := schema.AuditEntryKey(stream, 62)
	tests := []struct {
		name string
		kv   func() map[string][]byte
		seq  uint64
		text string
	}{
		{"kept entry altered", func() map[string][]byte {
			return map[string][]byte{kept: edited(t, raw(t, e.st, kept), map[string]any{"object": "zone other."})}
		}, 62, "MAC does not match"},
		{"checkpoint moved on", func() map[string][]byte {
			return map[string][]byte{cp: edited(t, raw(t, e.st, cp), map[string]any{"seq": 62})}
		}, 0, "the checkpoint's MAC does not match"},
		{"checkpoint removed", func() map[string][]byte { return map[string][]byte{cp: nil} }, 62, "entries 1 to 61 were removed"},
		{"first kept entry removed", func() map[string][]byte { return map[string][]byte{kept: nil} }, 63, "entries 62 to 62 are missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kv := tc.kv()
			saved := map[string][]byte{}
			for k := range kv {
				saved[k] = raw(t, e.st, k)
			}
			write(t, e.st, kv)
			defer write(t, e.st, saved)
			rep, err := e.svc.Audit.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range rep.Problems {
				found = found || p.Stream == stream && p.Seq == tc.seq && strings.Contains(p.Problem, tc.text)
			}
			if !found {
				t.Errorf("problems %+v, want entry %d: %q", rep.Problems, tc.seq, tc.text)
			}
		})
	}
}

// TestAuditList filters by time, actor and object.
func TestAuditList(t *testing.T) {
	e, z := auditedZone(t, Options{}, 1) // entries at e.now: creation (system:test) and a change (token:ops)
	t0 := e.now
	e.now = e.now.Add(time.Hour)
	if _, err := e.svc.Services.CreateService(asOps, newService("api.example.com."), ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    AuditQuery
		want []string // actions
	}{
		{AuditQuery{}, []string{"zone.create", "rrsets.change", "service.create"}},
		{AuditQuery{Since: t0.Add(time.Minute)}, []string{"service.create"}},
		{AuditQuery{Until: t0.Add(time.Minute)}, []string{"zone.create", "rrsets.change"}},
		{AuditQuery{Actor: "ops"}, []string{"rrsets.change", "service.create"}},
		{AuditQuery{Actor: "t_ops"}, []string{"rrsets.change", "service.create"}},
		{AuditQuery{Actor: "system:test"}, []string{"zone.create"}},
		{AuditQuery{Object: "zone:" + string(z)}, []string{"zone.create", "rrsets.change"}},
		{AuditQuery{Object: "api.example"}, []string{"service.create"}},
		{AuditQuery{Object: "service:"}, []string{"service.create"}},
		{AuditQuery{Object: "zone:example.com"}, nil},
		{AuditQuery{Limit: 1}, []string{"zone.create"}},
	}
	for _, tc := range tests {
		got, more, err := e.svc.Audit.List(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, en := range got {
			actions = append(actions, en.Action)
		}
		if strings.Join(actions, " ") != strings.Join(tc.want, " ") || more != (tc.q.Limit == 1) {
			t.Errorf("%+v: %v (more %t), want %v", tc.q, actions, more, tc.want)
		}
	}
}

// TestAuditListOldestFirst: the entries come oldest first whatever the
// order the store keeps them in, and a limit keeps the oldest, also when
// it drops entries while it reads.
func TestAuditListOldestFirst(t *testing.T) {
	e, z := auditedZone(t, Options{}, 0)
	t0 := e.now
	for i := range 10 { // entries 2..11, each older than the one before
		e.now = t0.Add(time.Duration(10-i) * time.Minute)
		if _, err := e.svc.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, fmt.Sprintf("h%d.example.com.", i), "A", 300, "192.0.2.1")}, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	got, more, err := e.svc.Audit.List(ctx, AuditQuery{Since: t0.Add(time.Second), Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, en := range got {
		seqs = append(seqs, en.Seq)
	}
	if fmt.Sprint(seqs) != "[11 10 9]" || !more {
		t.Errorf("the 3 oldest since %v: %v (more %t), want [11 10 9]", t0, seqs, more)
	}
}
