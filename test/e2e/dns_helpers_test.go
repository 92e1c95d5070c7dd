package e2e

// Helpers for the DNS tests (dns_test.go): running dig and kdig against a
// test server, parsing their text output into a comparable form, and
// checking table rows.

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/testutil"
)

// dnsMsg is one DNS response as dig or kdig printed it. RR lines are
// normalised with dnsNorm; flags are sorted.
type dnsMsg struct {
	Opcode string // QUERY, UPDATE, NOTIFY, RESERVED3 (dig) ...
	Rcode  string // NOERROR, NXDOMAIN, ..., BADVERS (kdig's NOTIMPL is NOTIMP)
	Flags  string // "aa qr", sorted
	// Header counts: QUERY/ZONE, ANSWER/PREREQ, AUTHORITY/UPDATE,
	// ADDITIONAL (the OPT pseudo-record included).
	Counts     [4]int
	Question   []string // "www.example.com. IN A"
	Answer     []string
	Authority  []string
	Additional []string
	// OPT is the EDNS pseudo-section, "" when the response had none, else
	// "OPT version=0 udp=1232 flags=do".
	OPT string
	// From the statistics after the response: the transport it came over
	// ("UDP" or "TCP") and its size in octets ("" and 0 when not printed,
	// as for failed transfers).
	Transport string
	Size      int
}

// dnsOPTv0 is the OPT record Stratus returns to an EDNS(0) query: version 0
// and its UDP payload size 1232 (DNS Flag Day 2020).
const dnsOPTv0 = "OPT version=0 udp=1232 flags="

// dnsNorm collapses runs of white space into one space.
func dnsNorm(s string) string { return strings.Join(strings.Fields(s), " ") }

func dnsNormAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, dnsNorm(s))
	}
	return out
}

func dnsSortFlags(s string) string {
	f := strings.Fields(s)
	slices.Sort(f)
	return strings.Join(f, " ")
}

type dnsSection int

const (
	dnsSecNone dnsSection = iota
	dnsSecQuestion
	dnsSecAnswer
	dnsSecAuthority
	dnsSecAdditional
	dnsSecOPT
)

// sectionHeaders maps the section titles both tools print (UPDATE
// messages rename the sections) to sections.
var dnsSectionHeaders = map[string]dnsSection{
	"QUESTION SECTION:":     dnsSecQuestion,
	"ZONE SECTION:":         dnsSecQuestion,
	"ANSWER SECTION:":       dnsSecAnswer,
	"PREREQUISITE SECTION:": dnsSecAnswer,
	"AUTHORITY SECTION:":    dnsSecAuthority,
	"UPDATE SECTION:":       dnsSecAuthority,
	"ADDITIONAL SECTION:":   dnsSecAdditional,
	"OPT PSEUDOSECTION:":    dnsSecOPT, // dig
	"EDNS PSEUDOSECTION:":   dnsSecOPT, // kdig
}

var (
	// ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 12264
	dnsDigHeaderRE = regexp.MustCompile(`^;; ->>HEADER<<- opcode: (\S+), status: (\S+), id: +\d+$`)
	// ;; flags: qr aa; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1
	dnsDigFlagsRE = regexp.MustCompile(`^;; flags:([a-z ]*); (?:QUERY|ZONE): (\d+), (?:ANSWER|PREREQ): (\d+), (?:AUTHORITY|UPDATE): (\d+), ADDITIONAL: (\d+)$`)
	// ; EDNS: version: 0, flags: do; udp: 1232
	dnsDigOPTRE = regexp.MustCompile(`^; EDNS: version: (\d+), flags:([a-z ]*); udp: (\d+)$`)

	// ;; ->>HEADER<<- opcode: QUERY; status: NOERROR; id: 56810
	dnsKdigHeaderRE = regexp.MustCompile(`^;; ->>HEADER<<- opcode: (\S+); status: (\S+); id: \d+$`)
	// ;; Flags: qr aa; QUERY: 1; ANSWER: 2; AUTHORITY: 0; ADDITIONAL: 1
	dnsKdigFlagsRE = regexp.MustCompile(`^;; Flags:([a-z ]*); (?:QUERY|ZONE): (\d+); (?:ANSWER|PREREQ): (\d+); (?:AUTHORITY|UPDATE): (\d+); ADDITIONAL: (\d+)$`)
	// ;; Version: 0; flags: do; UDP size: 1232 B; ext-rcode: NOERROR
	dnsKdigOPTRE = regexp.MustCompile(`^;; Version: (\d+); flags:([a-z ]*); UDP size: (\d+) B; ext-rcode: \S+$`)

	// Statistics: ";; SERVER: 127.0.0.1#53(127.0.0.1) (UDP)" and
	// ";; MSG SIZE  rcvd: 76" (dig); ";; From 127.0.0.1@53(UDP) in 0.2 ms"
	// and ";; Received 76 B" (kdig).
	dnsDigServerRE  = regexp.MustCompile(`^;; SERVER: \S+ \((UDP|TCP)\)$`)
	dnsDigSizeRE    = regexp.MustCompile(`^;; MSG SIZE +rcvd: (\d+)$`)
	dnsKdigServerRE = regexp.MustCompile(`^;; From \S+\((UDP|TCP)\) in `)
	dnsKdigSizeRE   = regexp.MustCompile(`^;; Received (\d+) B$`)
)

// dnsDialect is what differs between dig's and kdig's output.
type dnsDialect struct {
	header, flags, opt *regexp.Regexp
	server, size       *regexp.Regexp
	// questionPrefix precedes the question line: ";" for dig, ";; " for
	// kdig.
	questionPrefix string
}

var (
	dnsDigDialect  = dnsDialect{dnsDigHeaderRE, dnsDigFlagsRE, dnsDigOPTRE, dnsDigServerRE, dnsDigSizeRE, ";"}
	dnsKdigDialect = dnsDialect{dnsKdigHeaderRE, dnsKdigFlagsRE, dnsKdigOPTRE, dnsKdigServerRE, dnsKdigSizeRE, ";; "}
)

// parseDig parses the output of dig run with comments on (+nocmd is fine;
// +noall without +comments is not).
func parseDig(out string) ([]*dnsMsg, error) { return parseDNSOutput(out, dnsDigDialect) }

// parseKdig parses kdig's default output (and knsupdate's, which prints
// responses the same way).
func parseKdig(out string) ([]*dnsMsg, error) { return parseDNSOutput(out, dnsKdigDialect) }

func parseDNSOutput(out string, d dnsDialect) ([]*dnsMsg, error) {
	var (
		msgs []*dnsMsg
		m    *dnsMsg
		sec  = dnsSecNone
	)
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t")
		if sub := d.header.FindStringSubmatch(line); sub != nil {
			rcode := sub[2]
			if rcode == "NOTIMPL" { // kdig's spelling
				rcode = "NOTIMP"
			}
			m = &dnsMsg{Opcode: sub[1], Rcode: rcode, Counts: [4]int{-1, -1, -1, -1}}
			msgs = append(msgs, m)
			sec = dnsSecNone
			continue
		}
		if line == "" {
			sec = dnsSecNone
			continue
		}
		if m == nil {
			continue // dig's ";; Got answer:", kdig's transfer lines, ...
		}
		if sub := d.flags.FindStringSubmatch(line); sub != nil {
			m.Flags = dnsSortFlags(sub[1])
			for i := range 4 {
				m.Counts[i], _ = strconv.Atoi(sub[2+i])
			}
			continue
		}
		if sub := d.server.FindStringSubmatch(line); sub != nil {
			m.Transport = sub[1]
			continue
		}
		if sub := d.size.FindStringSubmatch(line); sub != nil {
			m.Size, _ = strconv.Atoi(sub[1])
			continue
		}
		if title, ok := strings.CutPrefix(line, ";; "); ok {
			if s, ok := dnsSectionHeaders[title]; ok {
				sec = s
				continue
			}
		}
		switch sec {
		case dnsSecOPT:
			if sub := d.opt.FindStringSubmatch(line); sub != nil {
				m.OPT = fmt.Sprintf("OPT version=%s udp=%s flags=%s", sub[1], sub[3], dnsSortFlags(sub[2]))
			}
		case dnsSecQuestion:
			// "NAME CLASS TYPE" after the prefix; other comments (kdig's
			// debug lines also start with ";; ") are skipped, and the
			// count check below catches a question that was not seen.
			if q, ok := strings.CutPrefix(line, d.questionPrefix); ok && len(strings.Fields(q)) == 3 {
				m.Question = append(m.Question, dnsNorm(q))
			}
		case dnsSecAnswer, dnsSecAuthority, dnsSecAdditional:
			if strings.HasPrefix(line, ";") {
				continue // a comment, such as dig's stats after the last section
			}
			rr := dnsNorm(line)
			switch sec {
			case dnsSecAnswer:
				m.Answer = append(m.Answer, rr)
			case dnsSecAuthority:
				m.Authority = append(m.Authority, rr)
			default:
				m.Additional = append(m.Additional, rr)
			}
		default:
			if !strings.HasPrefix(line, ";") {
				return nil, fmt.Errorf("line %d: record outside a section: %q", n, line)
			}
		}
	}
	for i, m := range msgs {
		if m.Counts[0] < 0 {
			return nil, fmt.Errorf("response %d: no flags line", i+1)
		}
		// The printed sections must agree with the header counts (the OPT
		// record counts in ADDITIONAL but is printed apart), or the
		// parser missed something.
		ar := len(m.Additional)
		if m.OPT != "" {
			ar++
		}
		if got := [4]int{len(m.Question), len(m.Answer), len(m.Authority), ar}; got != m.Counts {
			return nil, fmt.Errorf("response %d: parsed section sizes %v, header says %v", i+1, got, m.Counts)
		}
	}
	return msgs, nil
}

// dnsTool runs one DNS client against a test server.
type dnsTool struct {
	name  string // "dig" or "kdig"
	path  string
	base  []string // options every query gets
	parse func(string) ([]*dnsMsg, error)
}

// digTool returns dig set up to query s: no recursion desired, EDNS(0)
// with dig's default payload size of 1232, one record per line (+nosplit
// keeps long hex fields whole).
func digTool(t *testing.T, s *server) *dnsTool {
	t.Helper()
	host, port := dnsSplitAddr(t, s.dnsAddr)
	return &dnsTool{
		name:  "dig",
		path:  testutil.Tool(t, "dig"),
		base:  []string{"@" + host, "-p", port, "+norecurse", "+nocmd", "+nosplit", "+timeout=2", "+tries=2"},
		parse: parseDig,
	}
}

// kdigTool returns kdig set up like digTool: no recursion desired, EDNS(0)
// (kdig sends none by default; its payload size is 4096), and +noidn so
// that the query name's case reaches the server and the output unchanged.
func kdigTool(t *testing.T, s *server) *dnsTool {
	t.Helper()
	host, port := dnsSplitAddr(t, s.dnsAddr)
	return &dnsTool{
		name:  "kdig",
		path:  testutil.Tool(t, "kdig"),
		base:  []string{"@" + host, "-p", port, "+norec", "+noidn", "+edns", "+timeout=2", "+retry=1"},
		parse: parseKdig,
	}
}

func dnsSplitAddr(t *testing.T, addr string) (string, string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}

// run runs the tool with its base options followed by args.
func (d *dnsTool) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return dnsRunTool(t, d.path, "", append(slices.Clone(d.base), args...)...)
}

// query runs the tool and returns the responses it printed, failing the
// test when it exits non-zero or prints nothing parseable.
func (d *dnsTool) query(t *testing.T, args ...string) (msgs []*dnsMsg, stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := d.run(t, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\n%s%s", d.name, strings.Join(args, " "), code, stdout, stderr)
	}
	msgs, err := d.parse(stdout)
	if err == nil && len(msgs) == 0 {
		err = fmt.Errorf("no response printed")
	}
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", d.name, strings.Join(args, " "), err, stdout, stderr)
	}
	return msgs, stdout, stderr
}

// dnsCase is one row of a DNS table test. Each row runs with dig and with
// kdig (unless skipDig / skipKdig gives the reason why not), over UDP, and
// also over TCP (+tcp) when tcpToo is set (only over TCP when tcpOnly is);
// the expectations are the same for every run unless a kdig* field
// overrides them.
type dnsCase struct {
	name   string
	qname  string
	qtype  string // as both tools spell it: A, TYPE65280, AXFR ...
	qclass string // "" is IN

	opts     []string // options for both tools
	digOpts  []string // dig-only options
	kdigOpts []string // kdig-only options
	skipDig  string   // why the case is not run with dig
	skipKdig string   // why the case is not run with kdig
	tcpToo   bool     // run over UDP and again over TCP
	tcpOnly  bool     // run over TCP only

	opcode     string // "" is QUERY
	rcode      string
	flags      string // exactly these header flags, any order: "qr aa"
	opt        string // the response's OPT ("" none, dnsOPTv0 ...)
	question   string // "" is "QNAME IN QTYPE" with the query name's case
	noQuestion bool   // the response has an empty question section
	answer     []string
	authority  []string
	additional []string

	kdigAnswer []string // kdig's presentation of answer, when it differs
	// retried: the tool got a truncated UDP response and retried over TCP
	// by itself (the response checked is the TCP one).
	retried bool
	// kdigError: kdig prints no response for this case (zone transfers),
	// only this error on stderr, and exits non-zero.
	kdigError string
}

// checkDNSCases runs every row against the tools.
func checkDNSCases(t *testing.T, tools []*dnsTool, cases []dnsCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, tool := range tools {
				skip := map[string]string{"dig": tc.skipDig, "kdig": tc.skipKdig}[tool.name]
				if skip != "" {
					continue
				}
				// Transfers always go over TCP, whatever the options.
				transports := []string{"udp"}
				switch {
				case isTransfer(tc.qtype):
					transports = []string{"tcp-transfer"}
				case tc.tcpOnly:
					transports = []string{"tcp"}
				}
				if tc.tcpToo {
					transports = append(transports, "tcp")
				}
				for _, tr := range transports {
					t.Run(tool.name+"/"+tr, func(t *testing.T) { checkDNSCase(t, tool, tc, tr == "tcp") })
				}
			}
		})
	}
}

// args returns the tool arguments for the case.
func (tc *dnsCase) args(tool string, tcp bool) []string {
	args := slices.Clone(tc.opts)
	if tool == "dig" {
		args = append(args, tc.digOpts...)
	} else {
		args = append(args, tc.kdigOpts...)
	}
	if tcp {
		args = append(args, "+tcp")
	}
	if tc.qclass != "" {
		args = append(args, "-c", tc.qclass)
	}
	if tc.qtype != "" {
		args = append(args, "-t", tc.qtype)
	}
	if tc.qname != "" {
		args = append(args, "-q", tc.qname)
	}
	return args
}

func checkDNSCase(t *testing.T, tool *dnsTool, tc dnsCase, tcp bool) {
	t.Helper()
	args := tc.args(tool.name, tcp)
	cmdline := tool.name + " " + strings.Join(args, " ")
	if tool.name == "kdig" && tc.kdigError != "" {
		out, errOut, code := tool.run(t, args...)
		if code == 0 || !strings.Contains(errOut, tc.kdigError) {
			t.Errorf("%s: exit %d, want non-zero with %q on stderr\nstdout:\n%s\nstderr:\n%s", cmdline, code, tc.kdigError, out, errOut)
		}
		return
	}
	msgs, stdout, stderr := tool.query(t, args...)
	if len(msgs) != 1 {
		t.Fatalf("%s: %d responses printed, want 1\n%s", cmdline, len(msgs), stdout)
	}
	m := msgs[0]

	var errs []string
	check := func(what string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			errs = append(errs, fmt.Sprintf("%s:\n     got: %v\n    want: %v", what, got, want))
		}
	}
	checkRRs := func(what string, got, want []string) {
		want = dnsNormAll(want)
		if !slices.Equal(got, want) {
			errs = append(errs, fmt.Sprintf("%s:\n     got:\n       %s\n    want:\n       %s", what,
				strings.Join(got, "\n       "), strings.Join(want, "\n       ")))
		}
	}
	opcode := tc.opcode
	if opcode == "" {
		opcode = "QUERY"
	}
	check("opcode", m.Opcode, opcode)
	check("rcode", m.Rcode, tc.rcode)
	check("flags", m.Flags, dnsSortFlags(tc.flags))
	check("OPT", m.OPT, tc.opt)
	var wantQ []string
	switch {
	case tc.question != "":
		wantQ = []string{tc.question}
	case !tc.noQuestion:
		qclass := tc.qclass
		if qclass == "" {
			qclass = "IN"
		}
		wantQ = []string{dnsNorm(tc.qname + " " + qclass + " " + tc.qtype)}
	}
	checkRRs("question", m.Question, wantQ)
	wantAN := tc.answer
	if tool.name == "kdig" && tc.kdigAnswer != nil {
		wantAN = tc.kdigAnswer
	}
	checkRRs("answer", m.Answer, wantAN)
	checkRRs("authority", m.Authority, tc.authority)
	checkRRs("additional", m.Additional, tc.additional)

	retried := map[string]bool{
		"dig":  strings.Contains(stdout, ";; Truncated, retrying in TCP mode."),
		"kdig": strings.Contains(stderr, "truncated reply") && strings.Contains(stderr, "retrying over TCP"),
	}[tool.name]
	check("retried over TCP after TC", retried, tc.retried)
	// Every response came over the transport asked for (TCP after a
	// retry), and no UDP response exceeds our 1232-octet limit.
	if !isTransfer(tc.qtype) {
		want := "UDP"
		if tcp || tc.retried {
			want = "TCP"
		}
		check("transport", m.Transport, want)
		if m.Transport == "UDP" && (m.Size <= 0 || m.Size > 1232) {
			errs = append(errs, fmt.Sprintf("UDP response of %d octets", m.Size))
		}
	}
	if len(errs) > 0 {
		t.Errorf("%s\n  %s\n--- stdout:\n%s--- stderr:\n%s", cmdline, strings.Join(errs, "\n  "), stdout, stderr)
	}
}

// startDNSServer starts a server and imports each zone from
// testdata/dns_<zone>zone with `stratus zone import` (the CLI), e.g.
// example.com. from testdata/dns_example.com.zone.
func startDNSServer(t *testing.T, zones ...string) *server {
	t.Helper()
	s := startServer(t, "")
	for _, z := range zones {
		s.mustCLI("zone", "import", z, filepath.Join("testdata", "dns_"+z+"zone"))
	}
	return s
}

// dnsRunTool runs the program at path with stdin and args.
func dnsRunTool(t *testing.T, path, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var out, errOut strings.Builder
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out.String(), errOut.String(), code
}

// isTransfer reports whether qtype asks for a zone transfer (AXFR,
// IXFR=serial), which the tools always send over TCP.
func isTransfer(qtype string) bool {
	return strings.HasPrefix(qtype, "AXFR") || strings.HasPrefix(qtype, "IXFR")
}
