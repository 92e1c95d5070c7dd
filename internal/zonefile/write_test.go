package zonefile_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zonefile"
)

// ownerCases are owner names that are awkward to write relative to the
// origin, and the start of their line in the export.
var ownerCases = []struct {
	owner string // as written in the input
	line  string // expected start of its line in the export
}{
	{"www", "www\t"},
	{"@", "@\t3600\tIN\tSOA"},
	{`a\.b`, `a\.b` + "\t"},
	{`\@`, `\@` + "\t"},
	{`\$ttl`, `\$ttl` + "\t"},
	{`\$include.sub`, `\$include.sub` + "\t"},
	{`x\;y`, `x\;y` + "\t"},
	{`q\"uote`, `q\"uote` + "\t"},
	{`p\(aren\)`, `p\(aren\)` + "\t"},
	{`\000.bin`, `\000.bin` + "\t"},
	{`\255\\`, `\255\\` + "\t"},
	{`trailing\.`, `trailing\.` + "\t"},
	{`*`, "*\t"},
	{`example.com`, "example.com\t"}, // example.com.example.com.
}

// ownersZone is a zone with a TXT record at every owner of ownerCases.
func ownersZone() string {
	var src strings.Builder
	src.WriteString(minimal)
	for _, tt := range ownerCases {
		if tt.owner != "@" {
			src.WriteString(tt.owner + " TXT \"x\"\n")
		}
	}
	return src.String()
}

// TestWriteOwners round-trips owner names that are awkward to write
// relative to the origin.
func TestWriteOwners(t *testing.T) {
	sets, err := parseString(ownersZone())
	if err != nil {
		t.Fatal(err)
	}
	out := mustWrite(t, sets)
	for _, tt := range ownerCases {
		if !bytes.Contains(out, []byte("\n"+tt.line)) {
			t.Errorf("owner %s: no line starting %q in\n%s", tt.owner, tt.line, out)
		}
	}
	again, err := zonefile.Parse(bytes.NewReader(out), zonefile.ParseOptions{Origin: origin})
	if err != nil {
		t.Fatalf("re-import: %v\n%s", err, out)
	}
	if ok, diff := sameSets(sets, again); !ok {
		t.Error(diff)
	}
}

func TestWriteHeaderAndOrder(t *testing.T) {
	sets, err := parseString(minimal + "b A 192.0.2.2\na A 192.0.2.3\n")
	if err != nil {
		t.Fatal(err)
	}
	before := append([]*model.RRset(nil), sets...)
	out := string(mustWrite(t, sets))
	want := "$ORIGIN example.com.\n" +
		"; zone example.com. exported by stratus\n" +
		"@\t3600\tIN\tSOA\tns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300\n" +
		"@\t3600\tIN\tNS\tns1.example.com.\n" +
		"a\t3600\tIN\tA\t192.0.2.3\n" +
		"b\t3600\tIN\tA\t192.0.2.2\n" +
		"ns1\t3600\tIN\tA\t192.0.2.1\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	for i := range sets {
		if sets[i] != before[i] {
			t.Fatal("Write reordered its input")
		}
	}
}

func TestWriteGenericRdata(t *testing.T) {
	null, _ := model.ParseType("NULL")
	apl, _ := model.ParseType("APL")
	sets := []*model.RRset{
		{Name: origin, Type: model.TypeSOA, TTL: 60, Rdata: [][]byte{soaRdata(t)}},
		{Name: origin, Type: model.TypeNS, TTL: 60, Rdata: [][]byte{model.MustName("ns.example.net.").Wire()}},
		{Name: model.MustName("n.example.com."), Type: null, TTL: 60, Rdata: [][]byte{{1, 2, 3}, {}}},
		{Name: model.MustName("a.example.com."), Type: apl, TTL: 60, Rdata: [][]byte{{}}},
		{Name: model.MustName("u.example.com."), Type: 65280, TTL: 60, Rdata: [][]byte{{0xff}}},
	}
	out := mustWrite(t, sets)
	for _, want := range []string{"n\t60\tIN\tNULL\t\\# 3 010203\n", "n\t60\tIN\tNULL\t\\# 0\n", "a\t60\tIN\tAPL\t\\# 0\n", "u\t60\tIN\tTYPE65280\t\\# 1 ff\n"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	again, err := zonefile.Parse(bytes.NewReader(out), zonefile.ParseOptions{Origin: origin})
	if err != nil {
		t.Fatalf("re-import: %v\n%s", err, out)
	}
	if ok, diff := sameSets(sets, again); !ok {
		t.Error(diff)
	}
}

func soaRdata(t *testing.T) []byte {
	t.Helper()
	rd, err := model.ParseRdata(model.TypeSOA, "ns.example.net. hostmaster.example.net. 1 2 3 4 5")
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

func TestWriteErrors(t *testing.T) {
	outside := []*model.RRset{{Name: model.MustName("www.example.org."), Type: model.TypeA, TTL: 1, Rdata: [][]byte{{192, 0, 2, 1}}}}
	if err := zonefile.Write(&bytes.Buffer{}, origin, outside); err == nil || !strings.Contains(err.Error(), "outside zone") {
		t.Errorf("out-of-zone set: %v", err)
	}
	corrupt := []*model.RRset{{Name: origin, Type: model.TypeA, TTL: 1, Rdata: [][]byte{{1, 2, 3}}}}
	if err := zonefile.Write(&bytes.Buffer{}, origin, corrupt); err == nil {
		t.Error("corrupt A rdata: no error")
	}
	errBoom := errors.New("boom")
	if err := zonefile.Write(failingWriter{errBoom}, origin, mustParseFile(t, "alltypes.zone")); !errors.Is(err, errBoom) {
		t.Errorf("failing writer: %v", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }
