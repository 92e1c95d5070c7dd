package querylog

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsserver"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// TestExtendedRcodeLogged: a response whose rcode needs the OPT
// record's upper bits (BADVERS to an EDNS version 1 query) is logged by
// its rcode, not by the header's lower four bits (NOERROR).
func TestExtendedRcodeLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queries.log")
	l, err := Open(Options{Output: path})
	if err != nil {
		t.Fatal(err)
	}
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	s, err := dnsserver.New(dnsserver.Config{Listen: []string{"127.0.0.1:0"}, UDPReaders: 1,
		Tap: dnsserver.TapConfig{Sink: l, Log: true}}, &src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	m.IsEdns0().SetVersion(1)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeBadVers {
		t.Fatalf("server answered %s, want BADVERS", dns.RcodeToString[r.Rcode])
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if len(lines) != 1 || lines[0]["rcode"] != "BADVERS" {
		t.Errorf("logged %v, want one line with rcode BADVERS", lines)
	}
}
