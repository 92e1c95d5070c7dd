package e2e

// DNS Cookies (RFC 7873, server cookies of RFC 9018), NSID (RFC 5001) and
// the CH TXT identity names (RFC 4892), seen through dig and kdig, and
// the server cookies checked against Knot DNS's, made with the same secret.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/testutil"
)

// cookieSecret is the server secret of RFC 9018 appendix A.
const cookieSecret = "e5e973e5a6b2a43f48e7dc849e37bfcf"

// startCookieServer starts a server with the dns section dnsYAML (indented
// keys) and example.com. imported.
func startCookieServer(t *testing.T, dnsYAML string) *server {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "stratus.yaml")
	if err := os.WriteFile(cfg, []byte("dns:\n"+dnsYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--config", cfg)
	s.mustCLI("zone", "import", "example.com.", filepath.Join("testdata", "dns_example.com.zone"))
	return s
}

// digCookieRE matches dig's line for the COOKIE option of a response:
// "; COOKIE: <client><server> (good)", "(good)" when the client cookie is
// the one sent.
var digCookieRE = regexp.MustCompile(`(?m)^; COOKIE: ([0-9a-f]+)( \(good\))?$`)

// cookieAnswer is what dig said of one response.
type cookieAnswer struct {
	status string // NOERROR, FORMERR, BADCOOKIE ...
	cookie string // the COOKIE option, hex ("" none)
	good   bool   // dig found the client cookie it sent
	out    string
}

// digCookie queries addr for www.example.com. A with dig and args
// (+cookie=HEX, +tcp ...), not retrying BADCOOKIE, and returns what the
// response said.
func digCookie(t *testing.T, addr string, args ...string) cookieAnswer {
	t.Helper()
	msgs, out, _ := digAt(t, addr).query(t, append([]string{"+nobadcookie"}, append(args, "www.example.com.", "A")...)...)
	a := cookieAnswer{status: msgs[0].Rcode, out: out}
	if m := digCookieRE.FindAllStringSubmatch(out, -1); len(m) == 1 {
		a.cookie, a.good = m[0][1], m[0][2] != ""
	} else if len(m) > 1 {
		t.Fatalf("%d COOKIE options:\n%s", len(m), out)
	}
	return a
}

// cookieTime returns the timestamp of the server cookie in a COOKIE
// option (RFC 9018: octets 4 to 7 of the server cookie, which follows the
// 8-octet client cookie).
func cookieTime(t *testing.T, cookie string) uint32 {
	t.Helper()
	if len(cookie) != 48 || cookie[16:24] != "01000000" {
		t.Fatalf("COOKIE %q is not a client cookie and an RFC 9018 server cookie of version 1", cookie)
	}
	v, err := strconv.ParseUint(cookie[24:32], 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(v)
}

// waitCookieTimeAfter waits until the server at addr makes server cookies
// with a timestamp later than ts: from then on, a server cookie of time ts
// sent back unchanged was found valid, while an invalid one would be
// replaced by one of a later time.
func waitCookieTimeAfter(t *testing.T, addr string, ts uint32) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for cookieTime(t, digCookie(t, addr, "+cookie").cookie) <= ts {
		if time.Now().After(deadline) {
			t.Fatalf("%s still makes server cookies of time %d after 60s", addr, ts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startKnotCookies runs Knot DNS with its cookies module keyed with
// secret, serving example.com. Knot answers a query whose server cookie
// it finds invalid with BADCOOKIE, which makes it a judge of the cookies
// Stratus makes.
func startKnotCookies(t *testing.T, secret string) string {
	t.Helper()
	knotd := testutil.Tool(t, "knotd")
	dir := t.TempDir()
	port := freePort(t)
	conf := testutil.KnotConfig{Port: port, Dir: dir, Domain: "example.com.", ZoneFile: filepath.Join("testdata", "dns_example.com.zone"),
		Sections: fmt.Sprintf("mod-cookies:\n  - id: shared\n    secret: 0x%s\n", secret),
		Template: []string{"global-module: mod-cookies/shared"}}.String()
	cpath := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(cpath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	startDaemonPid(t, "knotd", addr, knotd, "-c", cpath)
	waitSOA(t, addr, "example.com.", 60*time.Second)
	return addr
}

// TestDNSCookies: every response to a query with a cookie carries the
// client cookie (dig: "good") and a server cookie; a server cookie sent
// back is valid at every server holding the secret it was made with
// (another Stratus node, Knot DNS) and sent back unchanged, while a server
// cookie made with another secret, or altered, is answered normally with
// a new one; a query for a server cookie alone (no question) gets one; a
// malformed COOKIE option is FORMERR.
func TestDNSCookies(t *testing.T) {
	a := startCookieServer(t, "  cookie_secret: "+cookieSecret+"\n")
	b := startCookieServer(t, "  cookie_secret: "+strings.ToUpper(cookieSecret)+"\n")
	other := startCookieServer(t, "") // a secret of its own, made at start
	knot := startKnotCookies(t, cookieSecret)

	first := digCookie(t, a.dnsAddr, "+cookie")
	if first.status != "NOERROR" || !first.good {
		t.Fatalf("first query: status %s, cookie %q good %v\n%s", first.status, first.cookie, first.good, first.out)
	}
	made := cookieTime(t, first.cookie)
	if tcp := digCookie(t, a.dnsAddr, "+cookie", "+tcp"); !tcp.good || cookieTime(t, tcp.cookie) < made {
		t.Errorf("over TCP: cookie %q good %v\n%s", tcp.cookie, tcp.good, tcp.out)
	}
	waitCookieTimeAfter(t, a.dnsAddr, made)

	// Sent back: valid at both nodes sharing the secret, and at Knot.
	for _, s := range []struct{ name, addr string }{{"the node that made it", a.dnsAddr}, {"another node with the secret", b.dnsAddr}} {
		r := digCookie(t, s.addr, "+cookie="+first.cookie)
		if r.status != "NOERROR" || !r.good || r.cookie != first.cookie {
			t.Errorf("%s: status %s, cookie %s (good %v), want %s back unchanged\n%s", s.name, r.status, r.cookie, r.good, first.cookie, r.out)
		}
	}
	kdig := kdigTool(t, a)
	out, errOut, code := kdig.run(t, "+cookie="+first.cookie, "www.example.com.", "A")
	if code != 0 || !strings.Contains(out, ";; COOKIE: "+strings.ToUpper(first.cookie)+"\n") || strings.Contains(out+errOut, "bad cookie") {
		t.Errorf("kdig +cookie=%s: exit %d, want the cookie back unchanged\n%s%s", first.cookie, code, out, errOut)
	}
	if r := digCookie(t, knot, "+cookie="+first.cookie); r.status != "NOERROR" {
		t.Errorf("Knot DNS with the same secret: status %s for the server cookie Stratus made, want NOERROR\n%s", r.status, r.out)
	}

	// A server cookie Knot made with the secret is valid at Stratus.
	fromKnot := digCookie(t, knot, "+cookie=2464c4abcf10c957")
	knotMade := cookieTime(t, fromKnot.cookie)
	waitCookieTimeAfter(t, a.dnsAddr, knotMade)
	if r := digCookie(t, a.dnsAddr, "+cookie="+fromKnot.cookie); !r.good || r.cookie != fromKnot.cookie {
		t.Errorf("Knot's server cookie %s: got %s (good %v), want it back unchanged\n%s", fromKnot.cookie, r.cookie, r.good, r.out)
	}

	// Made with another secret, or altered: answered, with a new cookie.
	altered := first.cookie[:47] + "0"
	if first.cookie[47] == '0' {
		altered = first.cookie[:47] + "1"
	}
	for _, s := range []struct{ name, addr, cookie string }{
		{"a node with another secret", other.dnsAddr, first.cookie},
		{"an altered hash", a.dnsAddr, altered},
	} {
		r := digCookie(t, s.addr, "+cookie="+s.cookie)
		if r.status != "NOERROR" || !r.good || r.cookie == s.cookie || cookieTime(t, r.cookie) <= made {
			t.Errorf("%s: status %s, cookie %s (good %v), want NOERROR and a new server cookie (sent %s, first made at %d)\n%s", s.name, r.status, r.cookie, r.good, s.cookie, made, r.out)
		}
	}
	if r := digCookie(t, knot, "+cookie="+altered); r.status != "BADCOOKIE" {
		t.Errorf("Knot DNS: status %s for an altered server cookie, want BADCOOKIE (Knot would not judge)\n%s", r.status, r.out)
	}

	// A query for a server cookie alone, without a question (RFC 7873
	// section 5.4): NOERROR, or BADCOOKIE for an invalid server cookie.
	for _, c := range []struct{ name, opt, status string }{
		{"a client cookie", "+cookie", "NOERROR"},
		{"a valid server cookie", "+cookie=" + first.cookie, "NOERROR"},
		{"an altered server cookie", "+cookie=" + altered, "BADCOOKIE"},
	} {
		r := digCookie(t, a.dnsAddr, "+header-only", c.opt)
		if r.status != c.status || !r.good || strings.Contains(r.out, "QUESTION SECTION") {
			t.Errorf("no question, %s: status %s, cookie %q (good %v), want %s and a cookie\n%s", c.name, r.status, r.cookie, r.good, c.status, r.out)
		}
	}

	// Malformed: a 2-octet COOKIE option.
	if r := digCookie(t, a.dnsAddr, "+nocookie", "+ednsopt=10:0102"); r.status != "FORMERR" || r.cookie != "" {
		t.Errorf("malformed COOKIE: status %s cookie %q, want FORMERR without one\n%s", r.status, r.cookie, r.out)
	}
}

// TestDNSIdentity: the configured identity answers NSID and CH TXT
// id.server and hostname.bind, the configured version version.bind and
// version.server; "none" turns the identity off, and the identity is the
// host name when not set. Other CH queries are REFUSED.
func TestDNSIdentity(t *testing.T) {
	a := startCookieServer(t, "  identity: ns-a\n  version: stratus-e2e\n")
	none := startCookieServer(t, "  identity: none\n")
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	dflt := startCookieServer(t, "")
	txt := func(name, val string) []string { return []string{fmt.Sprintf("%s 0 CH TXT %q", name, val)} }
	for _, s := range []struct {
		name  string
		srv   *server
		cases []dnsCase
	}{
		{"configured", a, []dnsCase{
			{name: "id.server", qname: "id.server.", qtype: "TXT", qclass: "CH", tcpToo: true,
				rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: txt("id.server.", "ns-a")},
			{name: "hostname.bind", qname: "hostname.bind.", qtype: "TXT", qclass: "CH",
				rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: txt("hostname.bind.", "ns-a")},
			{name: "version.bind", qname: "version.bind.", qtype: "TXT", qclass: "CH",
				rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: txt("version.bind.", "stratus-e2e")},
			{name: "version.server", qname: "version.server.", qtype: "TXT", qclass: "CH",
				rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: txt("version.server.", "stratus-e2e")},
			{name: "authors.bind is refused", qname: "authors.bind.", qtype: "TXT", qclass: "CH",
				rcode: "REFUSED", flags: "qr", opt: dnsOPTv0},
			{name: "id.server A is refused", qname: "id.server.", qtype: "A", qclass: "CH",
				rcode: "REFUSED", flags: "qr", opt: dnsOPTv0},
		}},
		{"none", none, []dnsCase{
			{name: "id.server is refused", qname: "id.server.", qtype: "TXT", qclass: "CH",
				rcode: "REFUSED", flags: "qr", opt: dnsOPTv0},
			{name: "version.bind is refused by default", qname: "version.bind.", qtype: "TXT", qclass: "CH",
				rcode: "REFUSED", flags: "qr", opt: dnsOPTv0},
		}},
		{"default", dflt, []dnsCase{
			{name: "hostname.bind is the host name", qname: "hostname.bind.", qtype: "TXT", qclass: "CH",
				rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: txt("hostname.bind.", host)},
		}},
	} {
		t.Run(s.name, func(t *testing.T) {
			checkDNSCases(t, []*dnsTool{digTool(t, s.srv), kdigTool(t, s.srv)}, s.cases)
		})
	}

	// NSID: dig prints "; NSID: 6e 73 2d 61 ("ns-a")", kdig
	// ";; NSID: 6E732D61 "ns-a"".
	for _, s := range []struct {
		name      string
		srv       *server
		dig, kdig string // "" none
	}{
		{"configured", a, `; NSID: 6e 73 2d 61 ("ns-a")`, `;; NSID: 6E732D61 "ns-a"`},
		{"none", none, "", ""},
		{"default", dflt, `("` + host + `")`, `"` + host + `"`},
	} {
		for _, tool := range []*dnsTool{digTool(t, s.srv), kdigTool(t, s.srv)} {
			_, out, _ := tool.query(t, "+nsid", "www.example.com.", "A")
			want := map[string]string{"dig": s.dig, "kdig": s.kdig}[tool.name]
			line := regexp.MustCompile(`(?m)^;+ NSID: .*$`).FindString(out)
			if want == "" && line != "" || want != "" && !strings.Contains(line, want) {
				t.Errorf("%s, %s +nsid: NSID line %q, want one with %q\n%s", s.name, tool.name, line, want, out)
			}
		}
	}
}
