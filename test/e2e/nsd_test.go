package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// startNSDSecondary runs NSD as a secondary of primary (ip:port) for zone,
// transferring with key and accepting its NOTIFY, on a loopback port.
func startNSDSecondary(t *testing.T, primary string, key tsigKeyConf, zone string) *namedSecondary {
	t.Helper()
	nsd := testutil.Tool(t, "nsd")
	dir := t.TempDir()
	port := freePort(t)
	host, pport, _ := strings.Cut(primary, ":")
	conf := fmt.Sprintf(`server:
	ip-address: 127.0.0.1@%d
	zonesdir: %q
	pidfile: %q
	xfrdfile: %q
	zonelistfile: %q
	database: ""
	username: ""
	server-count: 1
	verbosity: 2
remote-control:
	control-enable: no
key:
	name: %q
	algorithm: %s
	secret: %q
zone:
	name: %q
	zonefile: %q
	request-xfr: %s@%s %s
	allow-notify: %s %s
`, port, dir, filepath.Join(dir, "nsd.pid"), filepath.Join(dir, "xfrd.state"), filepath.Join(dir, "zone.list"),
		key.name, key.algorithm, key.secret, zone, zone+"zone", host, pport, key.name, host, key.name)
	path := filepath.Join(dir, "nsd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &namedSecondary{t: t, addr: fmt.Sprintf("127.0.0.1:%d", port)}
	n.logs, n.stop = startDaemon(t, "nsd", n.addr, nsd, "-d", "-c", path)
	return n
}

// TestTransferToNSD makes NSD a secondary of Stratus: the first transfer
// with TSIG, then a change reaching it by NOTIFY, which the server has as
// IXFR; a transfer with the wrong secret gets nothing.
func TestTransferToNSD(t *testing.T) {
	s := startServer(t, "")
	var key apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(s.mustCLI("tsig", "create", "nsd-xfr", "-o", "json")), &key); err != nil {
		t.Fatal(err)
	}
	s.mustCLI("zone", "create", "nsd.test", "--ns", "ns1.nsd.test", "--allow-transfer", "key=nsd-xfr")
	s.mustCLI("record", "add", "nsd.test", "www", "A", "192.0.2.1")
	tsig := tsigKeyConf{"nsd-xfr", "hmac-sha256", key.Secret}
	sec := startNSDSecondary(t, s.dnsAddr, tsig, "nsd.test")
	sec.waitAnswer("www.nsd.test.", dns.TypeA, 30*time.Second, hasA("192.0.2.1"))
	before := soaSerial(t, sec.addr, "nsd.test.")

	s.mustCLI("zone", "update", "nsd.test", "--notify", sec.addr+",key=nsd-xfr")
	start := time.Now()
	s.mustCLI("record", "set", "nsd.test", "www", "A", "192.0.2.2")
	sec.waitAnswer("www.nsd.test.", dns.TypeA, 30*time.Second, hasA("192.0.2.2"))
	t.Logf("the change on NSD after %v", time.Since(start).Round(time.Millisecond))
	checkIncremental(t, s.dnsAddr, "nsd.test.", before, soaSerial(t, s.dnsAddr, "nsd.test."), tsig)

	wrong := tsigKeyConf{"nsd-xfr", "hmac-sha256", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
	checkRefused(t, s.dnsAddr, "nsd.test.", wrong)
	bad := startNSDSecondary(t, s.dnsAddr, wrong, "nsd.test")
	m := new(dns.Msg)
	m.SetQuestion("www.nsd.test.", dns.TypeA)
	if r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, bad.addr); err == nil && len(r.Answer) > 0 {
		t.Errorf("an NSD with the wrong secret answers: %v", r)
	}
}
