package zonefile

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/model"
)

// positionsZone has one TXT record per logical record whose first string
// is the line the record must be reported at.
const positionsZone = `; comment on line 1
$TTL 300

a	TXT	"4"
	TXT	"5"
b	TXT	(
	"6" )
; comment line
	; indented comment
c	TXT	"10" ; trailing comment
$ORIGIN sub.example.com.
d	TXT	"12" "x;y" ( ; comment inside parentheses
	"z" )
$GENERATE 1-3 g$ TXT "14"
e	TXT	"15"

	
f	TXT	(
"18"
)	"more"
g TXT "21"
`

// TestRecordPositions checks the line the tracker attributes to every
// record, with LF and CRLF line ends.
func TestRecordPositions(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n"} {
		src := strings.ReplaceAll(positionsZone, "\n", eol)
		p := newParser(model.MustName("example.com."))
		var got []string
		p.trace = func(rr dns.RR, pos position) {
			txt := rr.(*dns.TXT).Txt[0]
			if want := strconv.Itoa(int(pos.line)); txt != want || p.t.files[pos.file] != "pos.zone" {
				t.Errorf("eol %q: %s reported at %s, want line %s", eol, rr, p.t.field(pos), txt)
			}
			got = append(got, txt)
		}
		p.parse(strings.NewReader(src), ParseOptions{File: "pos.zone"}, 3600)
		if len(got) != 11 {
			t.Errorf("eol %q: traced %d records, want 11: %v", eol, len(got), got)
		}
	}
}

var miekgLine = regexp.MustCompile(`at line: (\d+):\d+$`)

// TestSyntaxErrorPositions checks that the tracker places syntax errors
// on the line miekg/dns itself reports.
func TestSyntaxErrorPositions(t *testing.T) {
	srcs := []string{
		"www A 192.0.2.300\n",
		"\n\nwww A 192.0.2.300",
		"a A 192.0.2.1\nwww 1x A 192.0.2.1\n",
		"a TXT (\n\"b\"\n\"c\"\nwww A 1\n",
		"a TXT (\n\"b\" ) )\n",
		"a MX 10\n",
		"a MX\t10 (\n)\nb A 192.0.2.1\n",
		"a A 192.0.2.1\n$TTL\n",
		"a A 192.0.2.1\n$ORIGIN\n\n",
		"a SRV 1 2 x y\n",
		"a TXT \"unterminated\n\n",
		"$GENERATE 1-2 a$ A 192.0.2.$$$\n",
		"a A 192.0.2.1\n\n$GENERATE 1-2 a$ MX x\n",
		"a CAA 0 issue\n",
		"; c\n\ta A 192.0.2.1\nb\n",
	}
	for _, src := range srcs {
		zp := dns.NewZoneParser(strings.NewReader(src), "example.com.", "")
		zp.SetDefaultTTL(3600)
		for _, ok := zp.Next(); ok; _, ok = zp.Next() {
		}
		want := "?"
		if m := miekgLine.FindStringSubmatch(errString(zp.Err())); m != nil {
			want = m[1]
		}
		_, err := newParser(model.MustName("example.com.")).parse(strings.NewReader(src), ParseOptions{File: "e.zone"}, 3600)
		var ve *model.Error
		if !errors.As(err, &ve) {
			t.Errorf("%q: error %v is not a *model.Error", src, err)
			continue
		}
		if strings.HasPrefix(src, "$GENERATE") || strings.Contains(src, "\n$GENERATE") {
			// miekg/dns counts lines of the generated text; we report
			// the directive.
			want = strconv.Itoa(strings.Count(src[:strings.Index(src, "$GENERATE")], "\n") + 1)
		}
		if ve.Field != "e.zone:"+want {
			t.Errorf("%q: error %q, miekg/dns says %v", src, err, zp.Err())
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestLastToken(t *testing.T) {
	tests := map[string]string{
		"www A\n":                          "A",
		"www TXT ; comment\n":              "TXT",
		"www TXT (\n) ; x\n":               "TXT",
		"www TXT \"a b\"\n":                `"a b"`,
		"www TXT \"a\\\"b\"":               `"a\"b"`,
		"www TYPE65280 \\# 0\n":            "0",
		"$TTL 5\nwww IN HINFO \"\" \"\"\n": `""`,
		"www TXT a\\;b":                    `a\;b`,
		"www TXT \"unterminated":           `"unterminated`,
		"":                                 "",
	}
	for in, want := range tests {
		if got := lastToken([]byte(in)); got != want {
			t.Errorf("lastToken(%q) = %q, want %q", in, got, want)
		}
	}
}
