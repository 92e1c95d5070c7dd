package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/auth"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
	"github.com/stratusdns/stratus/internal/zone"
)

// env is a control plane on a fresh bolt store with a running publisher.
type env struct {
	st  store.Store
	pub *publish.Publisher
	svc *Plane
	now time.Time
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "stratus.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	e.pub = publish.New(st, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.pub.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	<-e.pub.Ready()
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return e.now }
	}
	e.svc = New(st, e.pub, opts)
	return e
}

var ctx = context.Background()

func mustCreate(t *testing.T, e *env, name string, policy model.SerialPolicy) model.Name {
	t.Helper()
	z := model.MustName(name)
	_, err := e.svc.Zones.CreateZone(ctx, NewZone{
		Settings:    model.ZoneSettings{Name: z, SerialPolicy: policy, DefaultTTL: 300},
		Nameservers: []model.Name{model.MustName("ns1." + name), model.MustName("ns2.example.net.")},
	}, []*model.RRset{set(t, "ns1."+name, "A", 300, "192.0.2.53")}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func set(t *testing.T, name, typ string, ttl uint32, data ...string) *model.RRset {
	t.Helper()
	ty, err := model.ParseType(typ)
	if err != nil {
		t.Fatal(err)
	}
	s := &model.RRset{Name: model.MustName(name), Type: ty, TTL: ttl}
	for _, d := range data {
		rd, err := model.ParseRdata(ty, d)
		if err != nil {
			t.Fatal(err)
		}
		s.Add(rd)
	}
	return s
}

func change(t *testing.T, op model.Op, name, typ string, ttl uint32, data ...string) model.Change {
	t.Helper()
	s := set(t, name, typ, ttl, data...)
	return model.Change{Op: op, Name: s.Name, Type: s.Type, TTL: ttl, HasTTL: ttl != 0, Rdata: s.Rdata}
}

// served looks a name up in the snapshot the DNS server would answer from.
func served(t *testing.T, e *env, name string, qtype uint16) *zone.Answer {
	t.Helper()
	var a zone.Answer
	e.pub.Snapshots().Load().Lookup(&a, model.MustName(name).Wire(), qtype)
	return &a
}

func serialOf(t *testing.T, e *env, z model.Name) uint32 {
	t.Helper()
	info, err := e.svc.Zones.GetZone(ctx, z)
	if err != nil {
		t.Fatal(err)
	}
	return info.Serial
}

func TestCreateZone(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	info, err := e.svc.Zones.GetZone(ctx, z)
	if err != nil {
		t.Fatal(err)
	}
	if info.Serial != 1 || info.RRsets != 3 || info.Records != 4 || info.DefaultTTL != 300 || info.SerialPolicy != model.SerialIncrement {
		t.Errorf("info = %+v", info)
	}
	a := served(t, e, "example.com.", dns.TypeSOA)
	if a.Rcode != 0 || len(a.Answer) != 1 {
		t.Fatalf("SOA not served after create: %+v", a)
	}
	if _, err := e.svc.Zones.CreateZone(ctx, NewZone{Settings: model.ZoneSettings{Name: z}, Nameservers: []model.Name{"ns.example.net."}}, nil, "test"); !errors.Is(err, ErrZoneExists) {
		t.Errorf("duplicate create: %v", err)
	}
	if _, err := e.svc.Zones.CreateZone(ctx, NewZone{Settings: model.ZoneSettings{Name: "x.test."}}, nil, "test"); !model.IsValidation(err) {
		t.Errorf("create without name servers: %v", err)
	}
}

func TestApplyReadYourWrites(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	res, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "www.example.com.", "A", 60, "192.0.2.1", "192.0.2.2")}, WriteOptions{Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.OldSerial != 1 || res.Serial != 2 {
		t.Errorf("result %+v", res)
	}
	// No waiting: the change is served as soon as Apply returns.
	a := served(t, e, "www.example.com.", dns.TypeA)
	if len(a.Answer) != 1 || len(a.Answer[0].Set.Rdata) != 2 || a.Answer[0].TTL != 60 {
		t.Fatalf("not served after Apply: %+v", a)
	}
	soa := served(t, e, "example.com.", dns.TypeSOA)
	if f, _ := model.ParseSOAFields(soa.Answer[0].Set.Rdata[0]); f.Serial != 2 {
		t.Errorf("served serial %d, want 2", f.Serial)
	}
}

func TestApplyOperations(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	steps := []struct {
		change model.Change
		want   string // the www A set after the change, "" when absent
	}{
		{change(t, model.OpAdd, "www.example.com.", "A", 0, "192.0.2.1"), "300 192.0.2.1"},
		{change(t, model.OpAdd, "www.example.com.", "A", 0, "192.0.2.2", "192.0.2.1"), "300 192.0.2.1 192.0.2.2"},
		{change(t, model.OpSet, "www.example.com.", "A", 30, "192.0.2.9"), "30 192.0.2.9"},
		{change(t, model.OpAdd, "www.example.com.", "A", 30, "192.0.2.10"), "30 192.0.2.9 192.0.2.10"},
		{change(t, model.OpDelete, "www.example.com.", "A", 0, "192.0.2.9"), "30 192.0.2.10"},
		{change(t, model.OpDelete, "www.example.com.", "A", 0, "192.0.2.10"), ""},
	}
	for i, st := range steps {
		if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{st.change}, WriteOptions{}); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		sets, _, err := e.svc.Zones.RRsets(ctx, z, RRsetFilter{Name: "www.example.com.", Type: dns.TypeA})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if len(sets) == 1 {
			got = fmt.Sprint(sets[0].TTL)
			for _, rd := range sets[0].Rdata {
				s, _ := model.FormatRdata(dns.TypeA, rd)
				got += " " + s
			}
		}
		if got != st.want {
			t.Errorf("step %d: www A = %q, want %q", i, got, st.want)
		}
	}
	if s := serialOf(t, e, z); s != 1+uint32(len(steps)) {
		t.Errorf("serial %d after %d changes", s, len(steps))
	}
	if a := served(t, e, "www.example.com.", dns.TypeA); a.Rcode != dnsconst.RcodeNXDomain {
		t.Errorf("deleted name still served: rcode %d", a.Rcode)
	}
}

func TestApplyRejectsAndChangesNothing(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "www.example.com.", "A", 0, "192.0.2.1")}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	before := serialOf(t, e, z)
	journalBefore, _ := e.svc.Zones.Journal(ctx, z, 0, 0)
	one := uint32(1)
	tests := []struct {
		name    string
		changes []model.Change
		wo      WriteOptions
		field   string
		msg     string
	}{
		{"CNAME beside other data", []model.Change{
			change(t, model.OpAdd, "other.example.com.", "TXT", 0, `"fine"`),
			change(t, model.OpAdd, "www.example.com.", "CNAME", 0, "target.example.net."),
		}, WriteOptions{}, "changes[1]", "cannot have A records as well"},
		{"record outside the zone", []model.Change{change(t, model.OpAdd, "www.example.org.", "A", 0, "192.0.2.1")}, WriteOptions{}, "changes[0].name", "not in zone"},
		{"deleting the apex SOA", []model.Change{{Op: model.OpDelete, Name: z, Type: dns.TypeSOA}}, WriteOptions{}, "changes[0]", "must keep its SOA"},
		{"deleting all apex NS", []model.Change{{Op: model.OpDelete, Name: z, Type: dns.TypeNS}}, WriteOptions{}, "changes[0]", "at least one NS"},
		{"DS at the apex", []model.Change{change(t, model.OpAdd, "example.com.", "DS", 0, "1 13 2 1111111111111111111111111111111111111111111111111111111111111111")}, WriteOptions{}, "changes[0]", "parent zone"},
		{"DS without a delegation", []model.Change{change(t, model.OpAdd, "sub.example.com.", "DS", 0, "1 13 2 1111111111111111111111111111111111111111111111111111111111111111")}, WriteOptions{}, "changes[0]", "delegation point"},
		{"TTL mismatch on add", []model.Change{change(t, model.OpAdd, "www.example.com.", "A", 999, "192.0.2.5")}, WriteOptions{}, "changes[0].ttl", "differs"},
		{"two CNAMEs", []model.Change{change(t, model.OpAdd, "c.example.com.", "CNAME", 0, "a.example.net.", "b.example.net.")}, WriteOptions{}, "changes[0]", "only one CNAME"},
		{"SOA below the apex", []model.Change{change(t, model.OpAdd, "x.example.com.", "SOA", 0, "a.example.com. b.example.com. 1 2 3 4 5")}, WriteOptions{}, "changes[0]", "only at the zone apex"},
		{"stale If-Match", []model.Change{change(t, model.OpAdd, "new.example.com.", "A", 0, "192.0.2.1")}, WriteOptions{IfMatch: &one}, "", "not 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Zones.Apply(ctx, z, tc.changes, tc.wo)
			if err == nil {
				t.Fatal("accepted")
			}
			var ve *model.Error
			if tc.field != "" && (!errors.As(err, &ve) || ve.Field != tc.field) {
				t.Errorf("err = %v (%T), want a validation error on field %q", err, err, tc.field)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want it to mention %q", err, tc.msg)
			}
		})
	}
	var pe *PreconditionError
	if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "n.example.com.", "A", 0, "192.0.2.1")}, WriteOptions{IfMatch: &one}); !errors.As(err, &pe) || pe.Current != uint64(before) {
		t.Errorf("If-Match error: %v", err)
	}
	if s := serialOf(t, e, z); s != before {
		t.Errorf("serial moved from %d to %d on rejected changes", before, s)
	}
	if a := served(t, e, "other.example.com.", dns.TypeTXT); a.Rcode != dnsconst.RcodeNXDomain {
		t.Error("the valid half of a rejected change list was applied")
	}
	journalAfter, _ := e.svc.Zones.Journal(ctx, z, 0, 0)
	if len(journalAfter) != len(journalBefore) {
		t.Errorf("journal grew from %d to %d entries", len(journalBefore), len(journalAfter))
	}
	// A matching If-Match goes through.
	if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "n.example.com.", "A", 0, "192.0.2.1")}, WriteOptions{IfMatch: &before}); err != nil {
		t.Errorf("matching If-Match: %v", err)
	}
}

func TestApplyNoChange(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	c := change(t, model.OpAdd, "www.example.com.", "A", 0, "192.0.2.1")
	if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{c}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Zones.Apply(ctx, z, []model.Change{c}, WriteOptions{})
	if err != nil || res.Changed || res.Serial != 2 {
		t.Errorf("repeated add: %+v, %v", res, err)
	}
	res, err = e.svc.Zones.Apply(ctx, z, []model.Change{{Op: model.OpDelete, Name: "absent.example.com.", Type: dns.TypeA}}, WriteOptions{})
	if err != nil || res.Changed {
		t.Errorf("deleting an absent set: %+v, %v", res, err)
	}
}

func TestSerialPolicies(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "date.test.", model.SerialDate)
	if s := serialOf(t, e, z); s != 2026112600 {
		t.Errorf("new date zone serial %d", s)
	}
	for i, want := range []uint32{2026112601, 2026112602} {
		if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, fmt.Sprintf("h%d.date.test.", i), "A", 0, "192.0.2.1")}, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if s := serialOf(t, e, z); s != want {
			t.Errorf("serial %d, want %d", s, want)
		}
	}
	e.now = e.now.Add(48 * time.Hour)
	if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "later.date.test.", "A", 0, "192.0.2.1")}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if s := serialOf(t, e, z); s != 2026112800 {
		t.Errorf("serial two days later %d, want 2026112800", s)
	}
	// An operator may move the serial forward through the SOA, not back.
	for _, tc := range []struct {
		serial uint32
		want   uint32
	}{{5000000000 % (1 << 32), 2026112801}, {2030010100, 2030010100}} {
		c := change(t, model.OpSet, "date.test.", "SOA", 300, fmt.Sprintf("ns1.date.test. hostmaster.date.test. %d 3600 600 1209600 300", tc.serial))
		if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{c}, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if s := serialOf(t, e, z); s != tc.want {
			t.Errorf("after setting SOA serial %d: serial %d, want %d", tc.serial, s, tc.want)
		}
	}
}

func TestJournal(t *testing.T) {
	e := newEnv(t, Options{JournalMaxEntries: 3})
	z := mustCreate(t, e, "example.com.", "")
	if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "www.example.com.", "A", 0, "192.0.2.1")}, WriteOptions{Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpSet, "www.example.com.", "A", 0, "192.0.2.2")}, WriteOptions{Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	j, err := e.svc.Zones.Journal(ctx, z, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(j) != 3 || !j[0].Reset || j[0].NewSerial != 1 {
		t.Fatalf("journal: %+v", j)
	}
	last := j[2]
	want := JournalEntry{Seq: 3, Zone: z, OldSerial: 2, NewSerial: 3, Time: e.now, Actor: "bob",
		Removed: []string{"example.com.\t300\tIN\tSOA\tns1.example.com. hostmaster.example.com. 2 3600 600 1209600 300", "www.example.com.\t300\tIN\tA\t192.0.2.1"},
		Added:   []string{"example.com.\t300\tIN\tSOA\tns1.example.com. hostmaster.example.com. 3 3600 600 1209600 300", "www.example.com.\t300\tIN\tA\t192.0.2.2"}}
	if fmt.Sprintf("%+v", last) != fmt.Sprintf("%+v", want) {
		t.Errorf("entry\n got %+v\nwant %+v", last, want)
	}
	for i := range 3 {
		if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, fmt.Sprintf("h%d.example.com.", i), "A", 0, "192.0.2.1")}, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	j, _ = e.svc.Zones.Journal(ctx, z, 0, 0)
	if len(j) != 3 || j[0].Seq != 4 || j[2].Seq != 6 || j[2].NewSerial != 6 {
		t.Errorf("bounded journal: %d entries, first seq %d", len(j), j[0].Seq)
	}
	if j, _ := e.svc.Zones.Journal(ctx, z, 5, 1); len(j) != 1 || j[0].Seq != 5 {
		t.Errorf("Journal(from 5, limit 1) = %+v", j)
	}
	if n, err := e.svc.Zones.CompactJournal(ctx, z, 1); err != nil || n != 1 {
		t.Fatalf("CompactJournal: %d, %v", n, err)
	}
	if _, err := e.svc.Zones.CompactJournal(ctx, z, 0); !model.IsValidation(err) {
		t.Errorf("keep 0: %v", err)
	}
	if j, _ := e.svc.Zones.Journal(ctx, z, 0, 0); len(j) != 1 || j[0].Seq != 6 {
		t.Errorf("after compaction: %+v", j)
	}
}

func TestImportReplaces(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "old.example.com.", "A", 0, "192.0.2.1")}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	sets := []*model.RRset{
		set(t, "example.com.", "SOA", 600, "ns1.example.com. hostmaster.example.com. 1 3600 600 1209600 300"),
		set(t, "example.com.", "NS", 600, "ns1.example.com."),
		set(t, "ns1.example.com.", "A", 600, "192.0.2.53"),
		set(t, "new.example.com.", "AAAA", 600, "2001:db8::1"),
	}
	res, err := e.svc.Zones.Import(ctx, z, sets, ImportOptions{Mode: ImportReplace})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.Serial != 3 || res.RRsets != 4 || res.Records != 4 {
		t.Errorf("result %+v", res)
	}
	if a := served(t, e, "old.example.com.", dns.TypeA); a.Rcode != dnsconst.RcodeNXDomain {
		t.Error("record not in the import is still served")
	}
	if a := served(t, e, "new.example.com.", dns.TypeAAAA); len(a.Answer) != 1 {
		t.Error("imported record not served")
	}
	// A zone file with a later serial moves the serial there.
	sets[0] = set(t, "example.com.", "SOA", 600, "ns1.example.com. hostmaster.example.com. 900 3600 600 1209600 300")
	if res, err = e.svc.Zones.Import(ctx, z, sets, ImportOptions{Mode: ImportReplace}); err != nil || res.Serial != 900 {
		t.Errorf("import with serial 900: %+v %v", res, err)
	}
	// Importing the same content again changes nothing.
	if res, err = e.svc.Zones.Import(ctx, z, sets, ImportOptions{Mode: ImportUpsert}); err != nil || res.Changed {
		t.Errorf("identical import: %+v %v", res, err)
	}
	// An invalid import is refused whole.
	bad := append(sets[:len(sets):len(sets)], set(t, "new.example.com.", "CNAME", 600, "x.example.net."))
	if _, err := e.svc.Zones.Import(ctx, z, bad, ImportOptions{Mode: ImportReplace}); !model.IsValidation(err) {
		t.Errorf("invalid import: %v", err)
	}
	if _, err := e.svc.Zones.Import(ctx, "missing.test.", nil, ImportOptions{Mode: ImportReplace}); !errors.Is(err, ErrZoneNotFound) {
		t.Errorf("replace of a missing zone: %v", err)
	}
}

func TestDeleteZone(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	if err := e.svc.Zones.DeleteZone(ctx, z, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if a := served(t, e, "example.com.", dns.TypeSOA); a.Rcode != dnsconst.RcodeRefused {
		t.Errorf("deleted zone still served: rcode %d", a.Rcode)
	}
	if _, err := e.svc.Zones.GetZone(ctx, z); !errors.Is(err, ErrZoneNotFound) {
		t.Errorf("GetZone after delete: %v", err)
	}
	var n, audited int
	e.st.View(ctx, func(tx store.ReadTx) error {
		return tx.Scan("", "", func(key string, _ []byte) error {
			switch {
			case strings.HasPrefix(key, schema.PrefixAudit):
				audited++ // the audit log outlives what it records
			case !strings.HasPrefix(key, schema.PrefixTokens) && !strings.HasPrefix(key, schema.PrefixAuditHeads):
				n++
			}
			return nil
		})
	})
	if n != 0 {
		t.Errorf("%d keys left behind by the deleted zone", n)
	}
	if audited != 2 {
		t.Errorf("%d audit entries kept, want 2 (the zone's creation and deletion)", audited)
	}
	if err := e.svc.Zones.DeleteZone(ctx, z, WriteOptions{}); !errors.Is(err, ErrZoneNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func TestConcurrentWrites(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, fmt.Sprintf("h%d.example.com.", i), "A", 0, "192.0.2.1")}, WriteOptions{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s := serialOf(t, e, z); s != 1+n {
		t.Errorf("serial %d after %d concurrent changes", s, n)
	}
	j, _ := e.svc.Zones.Journal(ctx, z, 0, 0)
	for i := 1; i < len(j); i++ {
		if j[i].OldSerial != j[i-1].NewSerial || j[i].Seq != j[i-1].Seq+1 {
			t.Fatalf("journal chain broken at %d: %+v after %+v", i, j[i], j[i-1])
		}
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t, Options{})
	tok, rec, err := e.svc.Tokens.CreateToken(ctx, "ci", []string{"zones:write"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Tokens.Authenticate(ctx, tok)
	if err != nil || p.Name != "ci" || !p.Allows("zones:read") || p.Allows("tokens:admin") {
		t.Fatalf("Authenticate: %+v %v", p, err)
	}
	if _, err := e.svc.Tokens.Authenticate(ctx, tok[:len(tok)-1]+"x"); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("wrong secret: %v", err)
	}
	if _, _, err := e.svc.Tokens.CreateToken(ctx, "x", []string{"zones:everything"}, auth.Local("test")); err == nil {
		t.Error("unknown scope accepted")
	}
	tok2, _, err := e.svc.Tokens.ReplaceToken(ctx, "ci", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Tokens.Authenticate(ctx, tok); err == nil {
		t.Error("replaced token still works")
	}
	if _, err := e.svc.Tokens.Authenticate(ctx, tok2); err != nil {
		t.Error(err)
	}
	if err := e.svc.Tokens.DeleteToken(ctx, rec.ID, auth.Local("test")); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("deleting the replaced token: %v", err)
	}
}

func TestOversizedRRsetIsRefused(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	c := model.Change{Op: model.OpSet, Name: "many.example.com.", Type: dns.TypeAAAA}
	for i := range 70000 {
		c.Rdata = append(c.Rdata, []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)})
	}
	_, err := e.svc.Zones.Apply(ctx, z, []model.Change{c}, WriteOptions{})
	if !model.IsValidation(err) || !strings.Contains(err.Error(), "at most 65000 fit") {
		t.Fatalf("70,000-record set: %v", err)
	}
	if s := serialOf(t, e, z); s != 1 {
		t.Errorf("serial moved to %d", s)
	}
	// The largest set that fits is accepted and served in one TCP message.
	c.Rdata = c.Rdata[:model.MaxRRsetWireSize/(12+16)]
	if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{c}, WriteOptions{}); err != nil {
		t.Fatalf("%d-record set: %v", len(c.Rdata), err)
	}
}

// TestJournalPage: the newest entries first, paged back with Before, and
// oldest first from From; each page says whether more follow it.
func TestJournalPage(t *testing.T) {
	e := newEnv(t, Options{JournalMaxEntries: 100})
	z := mustCreate(t, e, "example.com.", "") // entry 1
	for i := range 6 {                        // entries 2..7
		if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, fmt.Sprintf("h%d.example.com.", i), "A", 0, "192.0.2.1")}, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Zones.CompactJournal(ctx, z, 5); err != nil { // entries 3..7 left
		t.Fatal(err)
	}
	seqs := func(j []JournalEntry) []uint64 {
		out := []uint64{}
		for _, e := range j {
			out = append(out, e.Seq)
		}
		return out
	}
	tests := []struct {
		q    JournalQuery
		want []uint64
		more bool
	}{
		{JournalQuery{Newest: true, Limit: 2}, []uint64{7, 6}, true},
		{JournalQuery{Newest: true, Before: 6, Limit: 2}, []uint64{5, 4}, true},
		{JournalQuery{Newest: true, Before: 4, Limit: 2}, []uint64{3}, false},
		{JournalQuery{Newest: true, Before: 5, Limit: 2}, []uint64{4, 3}, false},
		{JournalQuery{Newest: true, Before: 3, Limit: 2}, []uint64{}, false},
		{JournalQuery{Newest: true}, []uint64{7, 6, 5, 4, 3}, false},
		{JournalQuery{Newest: true, Before: 100, Limit: 1}, []uint64{7}, true},
		{JournalQuery{Limit: 2}, []uint64{3, 4}, true},
		{JournalQuery{From: 6, Limit: 2}, []uint64{6, 7}, false},
		{JournalQuery{From: 5}, []uint64{5, 6, 7}, false},
	}
	for _, tc := range tests {
		j, more, err := e.svc.Zones.JournalPage(ctx, z, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := seqs(j); fmt.Sprint(got) != fmt.Sprint(tc.want) || more != tc.more {
			t.Errorf("%+v: %v more %v, want %v more %v", tc.q, got, more, tc.want, tc.more)
		}
	}
}

// TestCreateFirstTokenOnce: nodes starting together on one empty store
// make one first token between them; a store holding a token gets none,
// and bad input is refused before any write.
func TestCreateFirstTokenOnce(t *testing.T) {
	e := newEnv(t, Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var created []string
	for range 8 {
		wg.Go(func() {
			tok, _, ok, err := e.svc.Tokens.CreateFirstToken(ctx, "admin", []string{"*"}, "test")
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				created = append(created, tok)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	toks, err := e.svc.Tokens.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 1 || len(toks) != 1 {
		t.Fatalf("8 at once made %d tokens (%d reported created), want 1", len(toks), len(created))
	}
	if _, err := e.svc.Tokens.Authenticate(ctx, created[0]); err != nil {
		t.Errorf("the first token does not authenticate: %v", err)
	}
	if _, _, _, err := e.svc.Tokens.CreateFirstToken(ctx, "", []string{"*"}, "test"); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("no name: %v", err)
	}
}
