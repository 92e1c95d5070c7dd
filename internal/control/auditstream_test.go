package control

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/audit"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// entrySeqs returns the sequence numbers of stream's entries as stored.
func entrySeqs(t *testing.T, st store.Store, stream string) []uint64 {
	t.Helper()
	var out []uint64
	if err := st.View(ctx, func(tx store.ReadTx) error {
		out = out[:0]
		return tx.Scan(schema.AuditEntryPrefix(stream), "", func(k string, _ []byte) error {
			_, seq, _ := schema.ParseAuditEntryKey(k)
			out = append(out, seq)
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAuditPruneTimesBackwards: entry times that go backwards (two nodes
// whose clocks differ, a clock stepped back) leave the stream its head
// while it has entries; the next change goes on after them.
func TestAuditPruneTimesBackwards(t *testing.T) {
	const stream = "zone:example.com."
	e, z := auditedZone(t, Options{AuditRetention: time.Hour}, 0) // entry 1 at t0
	t0 := e.now
	e.now = t0.Add(-5 * time.Second) // entry 2, 5 s earlier
	if _, err := e.svc.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, "x.example.com.", "A", 300, "192.0.2.1")}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The cutoff falls between the two entries' times: entry 1 is
	// within the retention, entry 2 and the head (its time) are not.
	res, err := e.svc.Audit.Prune(ctx, t0.Add(time.Hour-2*time.Second))
	if err != nil || res.Entries != 0 || res.Dropped != 0 {
		t.Fatalf("prune: %+v %v, want nothing pruned", res, err)
	}
	if rep, err := e.svc.Audit.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("verify after pruning: %+v %v", rep, err)
	}
	e.now = t0.Add(time.Minute)
	if _, err := e.svc.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, "y.example.com.", "A", 300, "192.0.2.1")}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := entrySeqs(t, e.st, stream); len(got) != 3 || got[2] != 3 {
		t.Fatalf("entries %v, want 1 to 3", got)
	}
	// Once every entry is old, the stream goes whole.
	res, err = e.svc.Audit.Prune(ctx, t0.Add(2*time.Hour))
	if err != nil || res.Entries != 3 || res.Dropped != 1 {
		t.Fatalf("prune of every entry: %+v %v", res, err)
	}
	if rep, err := e.svc.Audit.Verify(ctx); err != nil || !rep.OK() || len(rep.Streams) != 0 {
		t.Fatalf("verify after the stream went: %+v %v", rep, err)
	}
}

// TestAuditAppendWithoutHead: a stream that lost its head goes on after
// its newest entry, never over one, and verify reports the break there.
func TestAuditAppendWithoutHead(t *testing.T) {
	const stream = "zone:example.com."
	tests := []struct {
		name string
		gone []string
		want []uint64
		seq  uint64 // the entry verify reports
	}{
		{"head removed", []string{schema.AuditHeadKey(stream)}, []uint64{1, 2, 3, 4}, 4},
		{"head and newest entry removed", []string{schema.AuditHeadKey(stream), schema.AuditEntryKey(stream, 3)}, []uint64{1, 2, 3}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, z := auditedZone(t, Options{}, 2) // entries 1 to 3
			first := raw(t, e.st, schema.AuditEntryKey(stream, 1))
			kv := map[string][]byte{}
			for _, k := range tc.gone {
				kv[k] = nil
			}
			write(t, e.st, kv)
			if _, err := e.svc.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, "v.example.com.", "A", 300, "192.0.2.1")}, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := entrySeqs(t, e.st, stream); !slices.Equal(got, tc.want) {
				t.Fatalf("entries %v, want %v", got, tc.want)
			}
			if !bytes.Equal(raw(t, e.st, schema.AuditEntryKey(stream, 1)), first) {
				t.Errorf("entry 1 was written over")
			}
			rep, err := e.svc.Audit.Verify(ctx)
			if err != nil || len(rep.Problems) != 1 || rep.Problems[0].Seq != tc.seq || !strings.Contains(rep.Problems[0].Problem, "head had been removed") {
				t.Fatalf("verify: %+v %v, want entry %d reported", rep, err, tc.seq)
			}
			// The chain goes on from there.
			if _, err := e.svc.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, "u.example.com.", "A", 300, "192.0.2.1")}, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			if rep2, err := e.svc.Audit.Verify(ctx); err != nil || len(rep2.Problems) != 1 {
				t.Errorf("verify after one more change: %+v %v", rep2, err)
			}
		})
	}
}

// TestAuditServiceDeleteEndpoints: deleting a service ends each of its
// endpoints' streams with an endpoint.delete entry, in the transaction
// that deletes them.
func TestAuditServiceDeleteEndpoints(t *testing.T) {
	e := newEnv(t, Options{AuditKey: testAuditKey})
	mustCreate(t, e, "example.com.", "")
	svc := model.MustName("api.example.com.")
	if _, err := e.svc.Services.CreateService(ctx, newService(string(svc)), ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	ids := []string{"a", "b", "c"}
	for _, id := range ids {
		if _, _, err := e.svc.Endpoints.RegisterEndpoint(ctx, svc, model.Endpoint{ID: id, Pool: "backup", Address: "192.0.2.1"}, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.Services.DeleteService(asOps, svc, ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		stream := schema.AuditEndpointStream(svc, id)
		log, _, err := e.svc.Audit.List(ctx, AuditQuery{Object: stream})
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 2 {
			t.Fatalf("%s: %+v, want its registration and deletion", stream, log)
		}
		last := log[1]
		if last.Action != "endpoint.delete" || last.Actor.Name != "ops" || last.Before != log[0].After || last.After != "" ||
			last.Object != "endpoint "+id+" of service api.example.com." {
			t.Errorf("%s: last entry %+v", stream, last)
		}
	}
	if rep, err := e.svc.Audit.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// TestAuditPruneCheckpointAtHead: a stream whose every entry an earlier
// prune deleted, leaving a checkpoint at its head (as one interrupted
// before it removed the stream could), goes whole at the next prune.
func TestAuditPruneCheckpointAtHead(t *testing.T) {
	const stream = "zone:example.com."
	e, _ := auditedZone(t, Options{}, 1) // entries 1 and 2
	h, err := schema.DecodeAuditHead(schema.AuditHeadKey(stream), raw(t, e.st, schema.AuditHeadKey(stream)))
	if err != nil {
		t.Fatal(err)
	}
	c := &schema.AuditCheckpoint{Stream: stream, Seq: h.Seq, MAC: h.MAC, Time: h.Time, Pruned: e.now}
	c.CheckpointMAC = audit.MAC(testAuditKey, c.MACInput())
	b, err := schema.EncodeAuditCheckpoint(c)
	if err != nil {
		t.Fatal(err)
	}
	write(t, e.st, map[string][]byte{schema.AuditCheckpointKey(stream): b, schema.AuditEntryKey(stream, 1): nil, schema.AuditEntryKey(stream, 2): nil})
	if rep, err := e.svc.Audit.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("verify before: %+v %v", rep, err)
	}
	if res, err := e.svc.Audit.Prune(ctx, e.now.Add(DefaultAuditRetention-time.Second)); err != nil || res.Dropped != 0 {
		t.Fatalf("prune within the retention: %+v %v", res, err)
	}
	if res, err := e.svc.Audit.Prune(ctx, e.now.Add(DefaultAuditRetention+time.Second)); err != nil || res.Dropped != 1 {
		t.Fatalf("prune: %+v %v, want the stream removed", res, err)
	}
	if rep, err := e.svc.Audit.Verify(ctx); err != nil || !rep.OK() || len(rep.Streams) != 0 {
		t.Fatalf("verify after: %+v %v", rep, err)
	}
}

// TestAuditPruneKeepsAddedEntry: an entry added behind the head (without
// the audit key) keeps the stream from going when every entry up to the
// head is pruned, so that verify still reports it against the head.
func TestAuditPruneKeepsAddedEntry(t *testing.T) {
	const stream = "zone:example.com."
	e, _ := auditedZone(t, Options{}, 1) // entries 1 and 2
	added := schema.AuditEntryKey(stream, 3)
	write(t, e.st, map[string][]byte{added: edited(t, raw(t, e.st, schema.AuditEntryKey(stream, 2)), map[string]any{"seq": 3})})
	res, err := e.svc.Audit.Prune(ctx, e.now.Add(DefaultAuditRetention+time.Second))
	if err != nil || res.Entries != 2 || res.Dropped != 0 {
		t.Fatalf("prune: %+v %v, want entries 1 and 2 pruned, the stream kept", res, err)
	}
	rep, err := e.svc.Audit.Verify(ctx)
	if err != nil || len(rep.Problems) == 0 || rep.Problems[len(rep.Problems)-1].Seq != 3 || !strings.Contains(rep.Problems[len(rep.Problems)-1].Problem, "added without the audit key") {
		t.Fatalf("verify: %+v %v, want entry 3 reported against the head", rep, err)
	}
}
