package zonefile_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/internal/zonefile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden imports testdata/alltypes.zone, exports it, compares the
// export with testdata/alltypes.golden and imports the export again: the
// RRsets must survive unchanged.
func TestGolden(t *testing.T) {
	sets := mustParseFile(t, "alltypes.zone")
	out := mustWrite(t, sets)

	golden := filepath.Join("testdata", "alltypes.golden")
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("export differs from %s (run go test -update to accept):\n--- got\n%s\n--- want\n%s", golden, out, want)
	}

	again, err := zonefile.Parse(bytes.NewReader(out), zonefile.ParseOptions{Origin: origin, File: "export"})
	if err != nil {
		t.Fatalf("re-import of the export: %v\n%s", err, out)
	}
	if ok, diff := sameSets(sets, again); !ok {
		t.Errorf("import -> export -> import changed the zone: %s", diff)
	}
	if out2 := mustWrite(t, again); !bytes.Equal(out, out2) {
		t.Errorf("second export differs from the first:\n%s\n---\n%s", out, out2)
	}
}

// TestGoldenContents spot-checks what the import made of tricky input.
func TestGoldenContents(t *testing.T) {
	sets := mustParseFile(t, "alltypes.zone")
	byKey := make(map[model.Key]*model.RRset)
	for _, s := range sets {
		byKey[s.Key()] = s
	}
	get := func(name string, typ model.Type) *model.RRset {
		t.Helper()
		s := byKey[model.Key{Name: model.MustName(name), Type: typ}]
		if s == nil {
			t.Fatalf("no %s %s RRset", name, model.TypeString(typ))
		}
		return s
	}
	https, _ := model.ParseType("HTTPS")
	unknown, _ := model.ParseType("TYPE65280")
	tests := []struct {
		name    string
		typ     model.Type
		ttl     uint32
		records int
	}{
		{"example.com.", model.TypeSOA, 3600, 1},
		{"example.com.", model.TypeNS, 3600, 2},
		{"example.com.", https, 3600, 1}, // the duplicate collapsed
		{"ns2.example.com.", model.TypeA, 3600, 1},
		{"www.example.com.", model.TypeA, 300, 1},
		{"www.example.com.", model.TypeAAAA, 300, 1},
		{`a\.b.example.com.`, model.TypeA, 3600, 1},
		{"abc.example.com.", model.TypeA, 3600, 1},
		{"*.wild.example.com.", model.TypeA, 3600, 1},
		{"txt.example.com.", model.TypeTXT, 3600, 2},
		{"sub.example.com.", model.TypeNS, 86400, 2},
		{"sub.example.com.", model.TypeDS, 86400, 1},
		{"unknown.example.com.", unknown, 3600, 2},
		{"80.reverse.example.com.", model.TypePTR, 600, 1},
	}
	for _, tt := range tests {
		s := get(tt.name, tt.typ)
		if s.TTL != tt.ttl || len(s.Rdata) != tt.records {
			t.Errorf("%s %s: TTL %d with %d records, want TTL %d with %d", tt.name, model.TypeString(tt.typ), s.TTL, len(s.Rdata), tt.ttl, tt.records)
		}
	}
	// The long string is split into strings of at most 255 octets.
	long := get("long.example.com.", model.TypeTXT).Rdata[0]
	if long[0] != 255 || len(long) != 1+255+1+45 /* 300 octets */ {
		t.Errorf("long TXT rdata has first string length %d and total length %d", long[0], len(long))
	}
	if unk := get("unknown.example.com.", unknown).Rdata[0]; !bytes.Equal(unk, []byte{10, 0, 0, 1}) {
		t.Errorf("TYPE65280 rdata %x", unk)
	}
}

// TestNamedCheckzone feeds exports to BIND's named-checkzone.
func TestNamedCheckzone(t *testing.T) {
	tool := testutil.Tool(t, "named-checkzone")
	golden, err := os.ReadFile(filepath.Join("testdata", "alltypes.zone"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, src string }{
		{"alltypes", string(golden)},
		{"owners", ownersZone()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sets, err := parseString(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			out := mustWrite(t, sets)
			file := filepath.Join(t.TempDir(), "example.com.zone")
			if err := os.WriteFile(file, out, 0o644); err != nil {
				t.Fatal(err)
			}
			msg, err := exec.Command(tool, "-i", "local", string(origin), file).CombinedOutput()
			if err != nil {
				t.Fatalf("named-checkzone rejected the export: %v\n%s\n--- export:\n%s", err, msg, out)
			}
			t.Logf("named-checkzone: %s", msg)

			// BIND must read the export as the same zone: its own dump
			// of what it loaded parses to the same RRsets.
			dump := filepath.Join(t.TempDir(), "dump.zone")
			msg, err = exec.Command(tool, "-q", "-D", "-o", dump, string(origin), file).CombinedOutput()
			if err != nil {
				t.Fatalf("named-checkzone -D: %v\n%s", err, msg)
			}
			dumped, err := os.ReadFile(dump)
			if err != nil {
				t.Fatal(err)
			}
			bind, err := zonefile.Parse(bytes.NewReader(dumped), zonefile.ParseOptions{Origin: origin, File: "bind-dump"})
			if err != nil {
				t.Fatalf("parsing BIND's dump: %v\n%s", err, dumped)
			}
			if ok, diff := sameSetsAnyOrder(sets, bind); !ok {
				t.Errorf("BIND read the export differently: %s\n--- BIND's dump:\n%s", diff, dumped)
			}
		})
	}
}
