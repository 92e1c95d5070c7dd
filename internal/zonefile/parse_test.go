package zonefile_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zonefile"
)

// minimal is the smallest valid zone.
const minimal = apex + "ns1 A 192.0.2.1\n"

func TestParseTTLs(t *testing.T) {
	tests := []struct {
		name       string
		src        string
		defaultTTL uint32
		owner      string
		want       uint32
	}{
		{"default", minimal + "www A 192.0.2.2\n", 0, "www", 3600},
		{"DefaultTTL option", "@ SOA ns1 hostmaster 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n", 120, "www", 120},
		{"$TTL wins over DefaultTTL", "$TTL 60\n@ SOA ns1 hostmaster 1 2 3 4 5\n@ NS ns1\nwww A 192.0.2.2\n", 120, "www", 60},
		{"explicit TTL", minimal + "www 42 A 192.0.2.2\n", 0, "www", 42},
		{"unit suffixes", minimal + "www 1h30m A 192.0.2.2\n", 0, "www", 5400},
		{"previous explicit TTL without $TTL", "@ 77 SOA ns1 hostmaster 1 2 3 4 5\n@ NS ns1\nwww A 192.0.2.2\n", 0, "www", 77},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sets, err := zonefile.Parse(strings.NewReader(tt.src), zonefile.ParseOptions{Origin: origin, DefaultTTL: tt.defaultTTL})
			if err != nil {
				t.Fatal(err)
			}
			name := model.MustName(tt.owner + "." + string(origin))
			for _, s := range sets {
				if s.Name == name && s.TTL != tt.want {
					t.Errorf("%s %s TTL %d, want %d", s.Name, model.TypeString(s.Type), s.TTL, tt.want)
				}
			}
		})
	}
}

func TestParseOrderAndDuplicates(t *testing.T) {
	sets, err := parseString(minimal + "b A 192.0.2.2\na A 192.0.2.3\nB A 192.0.2.2\nb A 192.0.2.4\nb.example.com. AAAA 2001:db8::1\n")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sets {
		got = append(got, s.Name.String()+"/"+model.TypeString(s.Type)+"/"+strconv.Itoa(len(s.Rdata)))
	}
	want := "example.com./SOA/1 example.com./NS/1 ns1.example.com./A/1 b.example.com./A/2 a.example.com./A/1 b.example.com./AAAA/1"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

// TestParseLargeRRset makes sure duplicate detection does not rescan big
// sets (it would take minutes) and still collapses duplicates.
func TestParseLargeRRset(t *testing.T) {
	var b strings.Builder
	b.WriteString(minimal)
	for i := range 2000 {
		b.WriteString(fmt.Sprintf("big AAAA 2001:db8::%x\n", i))
	}
	b.WriteString("big AAAA 2001:db8::0\nbig AAAA 2001:db8::7cf\n") // duplicates
	sets, err := parseString(b.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		if s.Name == model.MustName("big.example.com.") && len(s.Rdata) != 2000 {
			t.Errorf("big AAAA has %d records, want 2000", len(s.Rdata))
		}
	}
	// A set that cannot fit in one DNS message is refused.
	for i := 2000; i < 40000; i++ {
		b.WriteString(fmt.Sprintf("big AAAA 2001:db8::%x\n", i))
	}
	if _, err := parseString(b.String()); err == nil || !strings.Contains(err.Error(), "at most 65000") {
		t.Errorf("40,000-record set: %v", err)
	}
}

func TestParseGenerate(t *testing.T) {
	sets, err := parseString(minimal + "$GENERATE 1-4 host-$ 300 A 192.0.2.$\n$GENERATE 10-12/2 $.rev 300 PTR host-${-9}\n")
	if err != nil {
		t.Fatal(err)
	}
	names := make(map[model.Name]bool)
	for _, s := range sets {
		names[s.Name] = true
	}
	for _, n := range []string{"host-1", "host-4", "10.rev", "12.rev"} {
		if !names[model.MustName(n+".example.com.")] {
			t.Errorf("no %s", n)
		}
	}
	_, err = parseString(minimal + "$GENERATE 1-4 host-$ 300 A 192.0.2.$\n$GENERATE 1-2 host-$ 600 A 192.0.2.9\n")
	var ve *model.Error
	if !errors.As(err, &ve) || ve.Field != "test.zone:6" || !strings.Contains(ve.Message, "TTL 600 differs") {
		t.Errorf("TTL clash in generated records: %v, want test.zone:6", err)
	}
}

// TestParseGenerateTTL pins a limitation of miekg/dns documented in the
// package comment: generated records without a TTL get 3600, not $TTL. If
// this fails after a miekg/dns upgrade, the limitation is gone: update the
// package comment.
func TestParseGenerateTTL(t *testing.T) {
	sets, err := parseString(minimal + "$TTL 300\n$GENERATE 1-2 g$ A 192.0.2.$\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		if s.Name == model.MustName("g1.example.com.") && s.TTL != 3600 {
			t.Errorf("generated record has TTL %d; miekg/dns now honours $TTL in $GENERATE", s.TTL)
		}
	}
}

func TestParseProgress(t *testing.T) {
	var b strings.Builder
	b.WriteString(minimal)
	for i := range 25000 {
		b.WriteString("h" + strconv.Itoa(i) + " A 192.0.2.1\n")
	}
	var calls []int
	_, err := zonefile.Parse(strings.NewReader(b.String()), zonefile.ParseOptions{
		Origin:   origin,
		Progress: func(n int) { calls = append(calls, n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{10000, 20000, 25003}
	if len(calls) != len(want) {
		t.Fatalf("progress calls %v, want %v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Fatalf("progress calls %v, want %v", calls, want)
		}
	}
}

func TestParseOptions(t *testing.T) {
	// The origin is canonicalised, and the default file name is "zone".
	sets, err := zonefile.Parse(strings.NewReader(minimal), zonefile.ParseOptions{Origin: "Example.COM"})
	if err != nil || len(sets) != 3 || sets[0].Name != origin {
		t.Fatalf("Parse with origin Example.COM: %v, %v", sets, err)
	}
	_, err = zonefile.Parse(strings.NewReader(minimal+"www CH A 192.0.2.1\n"), zonefile.ParseOptions{Origin: origin})
	var ve *model.Error
	if !errors.As(err, &ve) || ve.Field != "zone:5" {
		t.Errorf("default file name: %v, want zone:5", err)
	}
	for _, opts := range []zonefile.ParseOptions{
		{Origin: ""},
		{Origin: "bad..name"},
		{Origin: origin, DefaultTTL: model.MaxTTL + 1},
	} {
		if _, err := zonefile.Parse(strings.NewReader(minimal), opts); !model.IsValidation(err) {
			t.Errorf("Parse with %+v: %v, want a validation error", opts, err)
		}
	}
}

// TestParseRootZone reads a zone for the root, where every name is below
// the origin.
func TestParseRootZone(t *testing.T) {
	src := "$TTL 86400\n. SOA a.root-servers.net. nstld.verisign-grs.com. 1 2 3 4 5\n. NS a.root-servers.net.\ncom. NS a.gtld-servers.net.\n"
	sets, err := zonefile.Parse(strings.NewReader(src), zonefile.ParseOptions{Origin: model.Root})
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 3 {
		t.Errorf("%d RRsets, want 3", len(sets))
	}
}

// failingReader returns its text, then an error.
type failingReader struct {
	text string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.text == "" {
		return 0, r.err
	}
	n := copy(p, r.text)
	r.text = r.text[n:]
	return n, nil
}

func TestParseReadError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	_, err := zonefile.Parse(&failingReader{minimal + "www A 192.0.2.2\nmail ", errDisk}, zonefile.ParseOptions{Origin: origin})
	var ve *model.Error
	if !errors.As(err, &ve) || ve.Field != "zone:6" || !strings.Contains(ve.Message, "disk on fire") {
		t.Errorf("error %v (%T), want zone:6 naming the read error", err, err)
	}
}
