package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestZoneImportTTLs: records keep the TTLs the file gives them ($TTL or
// their own); the zone's default TTL is not changed, and the CLI says so
// when the file's $TTL differs from it.
func TestZoneImportTTLs(t *testing.T) {
	s := newTestAPI(t)
	zone := `$ORIGIN example.com.
$TTL 300
@      SOA ns1 hostmaster 1 7200 3600 1209600 300
@      NS  ns1
ns1    A   192.0.2.53
www 60 A   192.0.2.1
$TTL 1h30m
api    A   192.0.2.2
`
	file := filepath.Join(t.TempDir(), "example.com.zone")
	if err := os.WriteFile(file, []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(step string) {
		t.Helper()
		var l apiv1.RRsetList
		if err := json.Unmarshal([]byte(s.mustCLI("record", "list", "example.com", "-o", "json")), &l); err != nil {
			t.Fatal(err)
		}
		want := map[string]uint32{"example.com. SOA": 300, "example.com. NS": 300, "ns1.example.com. A": 300, "www.example.com. A": 60, "api.example.com. A": 5400}
		for _, r := range l.RRsets {
			if w, ok := want[r.Name+" "+r.Type]; !ok || r.TTL != w {
				t.Errorf("%s: %s %s TTL %d, want %d", step, r.Name, r.Type, r.TTL, w)
			}
		}
	}
	defaultTTL := func() uint32 {
		var z apiv1.Zone
		if err := json.Unmarshal([]byte(s.mustCLI("zone", "get", "example.com", "-o", "json")), &z); err != nil {
			t.Fatal(err)
		}
		return z.DefaultTTL
	}

	// A zone the import creates: default 3600, which the file's $TTL 300 is not.
	out, errOut, code := s.cli("zone", "import", "example.com", file)
	note := "note: the records took the TTLs in " + file + " ($TTL 300); the zone's default TTL, for records added later without one, stays 3600 (stratus zone update example.com --ttl 300 changes it)\n"
	if code != 0 || errOut != note {
		t.Errorf("import creating the zone: exit %d\nstdout %s\nstderr %q\nwant   %q", code, out, errOut, note)
	}
	check("created")
	if d := defaultTTL(); d != 3600 {
		t.Errorf("default TTL %d after the import, want 3600", d)
	}

	// The same $TTL as the zone's default: nothing to say.
	s.mustCLI("zone", "update", "example.com", "--ttl", "300")
	s.mustCLI("record", "add", "example.com", "tmp", "A", "192.0.2.9")
	if _, errOut, code := s.cli("zone", "import", "example.com", file); code != 0 || errOut != "" {
		t.Errorf("import with the zone's own default: exit %d, stderr %q", code, errOut)
	}
	check("replaced")
	if d := defaultTTL(); d != 300 {
		t.Errorf("default TTL %d after the import, want 300", d)
	}
}

func TestParseZoneTTL(t *testing.T) {
	for in, want := range map[string]uint32{"300": 300, "1h": 3600, "1H30m": 5400, "2w": 1209600, "1d1s": 86401} {
		if got, ok := parseZoneTTL(in); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "h", "1x", "99999999999"} {
		if _, ok := parseZoneTTL(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	w := &ttlWatcher{atStart: true}
	for _, chunk := range []string{"$ORI", "GIN x.\n; $TTL 9\n $TTL 8\n$t", "tl 1m ; c\n$TTL 7\n"} {
		w.Write([]byte(chunk))
	}
	if !w.found || w.ttl != 60 {
		t.Errorf("first $TTL: %v %d, want 60", w.found, w.ttl)
	}
}

// TestZoneImportRecordLimits: the CLI reads the file with the record
// limits of its config file and stops, before sending anything, at the
// first record beyond them, naming FILE:LINE and the limit.
func TestZoneImportRecordLimits(t *testing.T) {
	s := newTestAPI(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "stratus.yaml")
	if err := os.WriteFile(cfg, []byte("zones:\n  max_records: 8\n  max_generated_records: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	apex := "$ORIGIN example.com.\n@ 300 SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ 300 NS ns1\nns1 300 A 192.0.2.53\n"
	for _, tc := range []struct{ name, body, want string }{
		{"generated", "$GENERATE 1-5 h$ 300 A 192.0.2.1\n", ":5: the $GENERATE lines make more than 3 records in all, the limit of one zone file (zones.max_generated_records)"},
		{"records", "a 300 A 192.0.2.1\nb 300 A 192.0.2.1\nc 300 A 192.0.2.1\nd 300 A 192.0.2.1\ne 300 A 192.0.2.1\nf 300 A 192.0.2.1\n",
			":10: the zone file holds more than 8 records, the limit of one import (zones.max_records)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name+".zone")
			if err := os.WriteFile(file, []byte(apex+tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, errOut, code := s.cli("--config", cfg, "zone", "import", "example.com", file)
			if code != 2 || !strings.Contains(errOut, file+tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, errOut, file+tc.want)
			}
			if _, _, code := s.cli("zone", "get", "example.com"); code == 0 {
				t.Fatal("the zone was created")
			}
		})
	}
}
