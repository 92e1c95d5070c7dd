package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/testutil"
)

// startKnot runs Knot DNS (one worker of each kind) on a loopback port
// serving zone (name.) from the zone file at path, transfers allowed to
// 127.0.0.1, and returns its address and process id once it answers the
// zone's SOA.
func startKnot(t *testing.T, zone, path string) (addr string, pid int) {
	t.Helper()
	knotd := testutil.Tool(t, "knotd")
	dir := t.TempDir()
	port := freePort(t)
	conf := testutil.KnotConfig{Port: port, Dir: dir, Domain: zone, ZoneFile: path,
		Sections: "acl:\n  - id: xfr\n    address: 127.0.0.1\n    action: transfer\n",
		Zone:     []string{"acl: xfr"}}.String()
	cpath := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(cpath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	_, _, pid = startDaemonPid(t, "knotd", addr, knotd, "-c", cpath)
	waitSOA(t, addr, zone, 60*time.Second)
	return addr, pid
}

// digAt returns dig set up as digTool, querying addr.
func digAt(t *testing.T, addr string) *dnsTool {
	t.Helper()
	host, port := dnsSplitAddr(t, addr)
	return &dnsTool{
		name:  "dig",
		path:  testutil.Tool(t, "dig"),
		base:  []string{"@" + host, "-p", port, "+norecurse", "+nocmd", "+nosplit", "+timeout=2", "+tries=2"},
		parse: parseDig,
	}
}

// TestAdditionalSectionMatchesKnot serves one zone from Stratus and from
// Knot DNS and asks both, with dig, for NS, MX and SRV sets: the
// additional sections hold the same records (the addresses of in-zone
// targets, glue and wildcards included, CNAME targets not), whatever
// their order. Knot repeats a target's addresses for each record naming
// it; Stratus gives them once.
func TestAdditionalSectionMatchesKnot(t *testing.T) {
	path, err := filepath.Abs(filepath.Join("testdata", "dns_add.test.zone"))
	if err != nil {
		t.Fatal(err)
	}
	s := startDNSServer(t, "add.test.")
	knot, _ := startKnot(t, "add.test.", path)
	ours, theirs := digTool(t, s), digAt(t, knot)
	uniq := func(rrs []string) []string {
		rrs = slices.Clone(rrs)
		slices.Sort(rrs)
		return slices.Compact(rrs)
	}
	for _, q := range []struct {
		name, qtype string
		extra       bool // the answer has additional records
	}{
		{"add.test.", "NS", true},
		{"add.test.", "MX", true},
		{"deleg.add.test.", "MX", true},
		{"wildmx.add.test.", "MX", true},
		{"twowild.add.test.", "MX", true},
		{"_sip._tcp.add.test.", "SRV", true},
		{"alias.add.test.", "MX", true},
		{"cnmx.add.test.", "MX", false},
		{"outside.add.test.", "MX", false},
		{"ptr.add.test.", "PTR", false},
		{"svc.add.test.", "SRV", false},
		{"many.add.test.", "MX", true},
	} {
		t.Run(q.name+"/"+q.qtype, func(t *testing.T) {
			got, _, _ := ours.query(t, "-q", q.name, "-t", q.qtype)
			want, _, _ := theirs.query(t, "-q", q.name, "-t", q.qtype)
			if !slices.Equal(uniq(got[0].Answer), uniq(want[0].Answer)) {
				t.Errorf("answer:\n  Stratus: %q\n  Knot:    %q", got[0].Answer, want[0].Answer)
			}
			if !slices.Equal(uniq(got[0].Additional), uniq(want[0].Additional)) || len(got[0].Additional) != len(uniq(got[0].Additional)) {
				t.Errorf("additional:\n  Stratus: %q\n  Knot:    %q", got[0].Additional, want[0].Additional)
			}
			if (len(got[0].Additional) > 0) != q.extra {
				t.Errorf("additional records: %q, want some: %v", got[0].Additional, q.extra)
			}
		})
	}

	// Without EDNS only some of the addresses of many.add.test.'s twelve
	// mail exchangers fit in 512 octets: what fits is given, the rest
	// left out, and the response is not truncated (RFC 2181 section 9).
	msgs, _, _ := ours.query(t, "+noedns", "-q", "many.add.test.", "-t", "MX")
	m := msgs[0]
	if strings.Contains(m.Flags, "tc") || len(m.Answer) != 12 || len(m.Additional) == 0 || len(m.Additional) >= 24 || m.Size > 512 {
		t.Errorf("many.add.test. MX without EDNS: flags %q, %d answers, %d additional, %d octets; want no TC, 12 answers, some of the 24 addresses, at most 512 octets",
			m.Flags, len(m.Answer), len(m.Additional), m.Size)
	}
}
