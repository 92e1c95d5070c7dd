package control

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/internal/zone"
)

func revisionOf(t *testing.T, st store.Store) store.Revision {
	t.Helper()
	var rev store.Revision
	if err := st.View(ctx, func(tx store.ReadTx) error { rev = tx.Revision(); return nil }); err != nil {
		t.Fatal(err)
	}
	return rev
}

// TestCorruptRecords puts values no codec accepts (garbage, null, {})
// under each prefix of the layout, behind the control plane's back, and checks the policy of
// package schema: a load for the query path or steering leaves it out and
// logs its key, serving everything else; a write transaction that reads
// it fails with an error naming the key and writes nothing; other readers
// return that error.
func TestCorruptRecords(t *testing.T) {
	z := model.MustName("example.com.")
	api := model.MustName("api.example.com.")
	ep := model.Endpoint{ID: "e1", Pool: "backup", Address: "192.0.2.10"}
	tests := []struct {
		prefix string
		key    string
		// skipped: the load that leaves the record out and logs it
		// ("publisher", "events"), or "" when no load reads it.
		skipped string
		// write: a write transaction that reads the record; read: a reader
		// that returns its error, when no write reads it.
		write func(e *env) error
		read  func(e *env) error
	}{
		{schema.PrefixZones, schema.ZoneKey(z), "publisher",
			func(e *env) error {
				_, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "new.example.com.", "A", 0, "192.0.2.7")}, WriteOptions{})
				return err
			}, nil},
		{schema.PrefixZones, schema.ZoneKey(z), "publisher",
			func(e *env) error {
				ttl := uint32(600)
				_, err := e.svc.Zones.UpdateZone(ctx, z, ZoneUpdate{DefaultTTL: &ttl}, "test")
				return err
			}, nil},
		{schema.PrefixRRsets, schema.RRsetKey(z, model.Key{Name: "www.example.com.", Type: dns.TypeA}), "publisher",
			func(e *env) error {
				_, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "www.example.com.", "A", 0, "192.0.2.7")}, WriteOptions{})
				return err
			}, nil},
		{schema.PrefixJournal, schema.JournalKey(z, 1), "", nil,
			func(e *env) error { _, err := e.svc.Zones.Journal(ctx, z, 0, 0); return err }},
		{schema.PrefixSteered, schema.SteeredKey(z, model.Key{Name: api, Type: dns.TypeA}), "",
			func(e *env) error {
				_, err := e.svc.SteeredAnswers.SetSteeredAnswers(ctx, z, nil, "steering")
				return err
			}, nil},
		{schema.PrefixTokens, schema.TokenKey("corrupt"), "",
			func(e *env) error {
				_, _, err := e.svc.Tokens.ReplaceToken(ctx, "ci", []string{"*"}, auth.Local("test"))
				return err
			}, nil},
		{schema.PrefixTSIG, schema.TSIGKey("xfr.example."), "", nil,
			func(e *env) error { _, err := e.svc.TSIGKeys.TSIGKeys(ctx); return err }},
		{schema.PrefixServices, schema.ServiceKey(api), "publisher",
			func(e *env) error { _, _, err := e.svc.Endpoints.RegisterEndpoint(ctx, api, ep, "test"); return err }, nil},
		{schema.PrefixEndpoints, schema.EndpointKey(api, ep.ID), "publisher",
			func(e *env) error { _, _, err := e.svc.Endpoints.RegisterEndpoint(ctx, api, ep, "test"); return err }, nil},
		{schema.PrefixDrillRuns, schema.DrillRunKey("dr", 1), "", nil,
			func(e *env) error { _, err := e.svc.DrillRuns.DrillRuns(ctx, "", 0); return err }},
		{schema.PrefixEvents, schema.EventKey(1), "events", nil, nil},
	}
	// Values no codec accepts: not a value at all, null, and (for JSON)
	// a record that is not the one its key names.
	values := []struct {
		name  string
		value []byte
	}{{"garbage", []byte{99}}, {"null", []byte("null")}, {"empty", []byte("{}")}}
	seen := map[string]bool{}
	for _, v := range values {
		for _, tc := range tests {
			seen[tc.prefix] = true
			t.Run(v.name+"/"+strings.TrimSuffix(tc.prefix, "/"), func(t *testing.T) {
				e := newEnv(t, Options{})
				mustCreate(t, e, "example.com.", "")
				if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "ok.example.com.", "A", 0, "192.0.2.1")}, WriteOptions{}); err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.Services.CreateService(ctx, newService(string(api)), ServiceWriteOptions{}); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(tc.key, tc.prefix) {
					t.Fatalf("key %s is not under %s", tc.key, tc.prefix)
				}
				if _, err := e.st.Update(ctx, func(tx store.Tx) error { return tx.Put(tc.key, v.value) }); err != nil {
					t.Fatal(err)
				}
				// The live publisher applies the revision and goes on.
				if err := e.pub.WaitFor(ctx, revisionOf(t, e.st)); err != nil {
					t.Fatal(err)
				}

				var logs testutil.LogBuffer
				log := slog.New(slog.NewTextHandler(&logs, nil))
				switch tc.skipped {
				case "publisher":
					pub := publish.New(e.st, log)
					c, cancel := context.WithCancel(ctx)
					done := make(chan struct{})
					go func() { defer close(done); pub.Run(c) }()
					select {
					case <-pub.Ready():
					case err := <-pub.Failed():
						t.Fatalf("the load failed: %v", err)
					}
					cancel()
					<-done
					var a zone.Answer
					pub.Current().Lookup(&a, model.MustName("ok.example.com.").Wire(), dns.TypeA)
					if len(a.Answer) != 1 {
						t.Errorf("the rest of the zone is not served: %+v", a)
					}
				case "events":
					if _, _, err := OpenEventLog(ctx, e.st, EventLimits{}, log); err != nil {
						t.Fatalf("opening the event log: %v", err)
					}
				}
				if tc.skipped != "" && !strings.Contains(logs.String(), "key="+tc.key) {
					t.Errorf("the load did not log the record it skipped; logs:\n%s", logs.String())
				}

				op := tc.write
				if op == nil {
					op = tc.read
				}
				if op == nil {
					return
				}
				before := revisionOf(t, e.st)
				err := op(e)
				if !errors.Is(err, schema.ErrCorrupt) || !strings.Contains(err.Error(), tc.key) {
					t.Errorf("reading the record: %v, want an error naming %s", err, tc.key)
				}
				if after := revisionOf(t, e.st); after != before {
					t.Errorf("the store moved from revision %d to %d", before, after)
				}
			})
		}
	}
	for _, p := range []string{schema.PrefixZones, schema.PrefixRRsets, schema.PrefixJournal, schema.PrefixSteered,
		schema.PrefixTokens, schema.PrefixTSIG, schema.PrefixServices, schema.PrefixEndpoints, schema.PrefixDrillRuns, schema.PrefixEvents} {
		if !seen[p] {
			t.Errorf("no case for %s", p)
		}
	}
}
