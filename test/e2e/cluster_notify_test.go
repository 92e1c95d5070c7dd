package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// The zone BIND serves in TestClusterNotifyAnyNode: a refresh interval of
// a day, so that only a NOTIFY explains a prompt refresh.
const notifiedZone = `$TTL 300
@ SOA ns1 hostmaster 1 86400 3600 604800 60
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.1
`

// TestClusterNotifyAnyNode: three nodes on etcd are secondaries of a BIND
// primary that sends its NOTIFY to one node that does not lead. That
// node answers it, hands it to the leader, and every node serves the
// change made at BIND well within the day of the SOA refresh interval.
// The follower answers NOTIFY as a node alone does: NOERROR to the
// primary's key and address, REFUSED unsigned, NOTAUTH for a zone it
// does not hold as a secondary.
func TestClusterNotifyAnyNode(t *testing.T) {
	nsupdate := testutil.Tool(t, "nsupdate")
	ec := startEtcdCluster(t)
	c := startStratusCluster(t, ec, 3, "stratus/")
	leader := c.waitLeader(c.nodes[0], 3, "")
	var follower *server
	for i, s := range c.nodes {
		if fmt.Sprintf("node%d", i+1) != leader {
			follower = s
			break
		}
	}

	var key apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(c.nodes[0].mustCLI("tsig", "create", "legacy-xfr", "-o", "json")), &key); err != nil {
		t.Fatal(err)
	}
	// BIND notifies the follower, and the follower only.
	bind := startNamedPrimary(t, "legacy.test.", notifiedZone, tsigKeyConf{"legacy-xfr", "hmac-sha256", key.Secret}, follower.dnsAddr)
	c.nodes[0].mustCLI("zone", "create", "legacy.test", "--primary", bind.addr+",key=legacy-xfr")
	serials := func(want uint32) func() (bool, string) {
		return func() (bool, string) {
			var got []string
			ok := true
			for _, s := range c.nodes {
				serial, err := exchangeSOA(s.dnsAddr, "legacy.test.")
				got = append(got, fmt.Sprintf("%s: %d %v", s.dnsAddr, serial, err))
				ok = ok && err == nil && serial == want
			}
			return ok, strings.Join(got, "; ")
		}
	}
	waitUntil(t, "every node at serial 1", 60*time.Second, serials(1))

	host, port, _ := strings.Cut(bind.addr, ":")
	cmd := exec.Command(nsupdate, "-y", "hmac-sha256:legacy-xfr:"+key.Secret)
	cmd.Stdin = strings.NewReader("server " + host + " " + port + "\nzone legacy.test\nupdate add new.legacy.test 60 A 192.0.2.7\nsend\n")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nsupdate on BIND: %v\n%s", err, b)
	}
	start := time.Now()
	waitUntil(t, "every node at serial 2, by the NOTIFY to a follower", 60*time.Second, serials(2))
	t.Logf("the change on BIND answered by every node after %v", time.Since(start).Round(time.Millisecond))
	if now := c.waitLeader(follower, 3, ""); now != leader {
		t.Fatalf("the leader changed from %s to %s: its first refresh, not the NOTIFY, may have brought serial 2", leader, now)
	}
	for _, s := range c.nodes {
		if a := digA(t, s, "new.legacy.test"); a != "192.0.2.7" {
			t.Errorf("new.legacy.test at %s: %q", s.dnsAddr, a)
		}
	}

	// The follower's answers to NOTIFY messages of its own.
	notify := func(zone string, signed bool) int {
		t.Helper()
		m := new(dns.Msg)
		m.SetNotify(zone)
		cl := &dns.Client{Timeout: 5 * time.Second}
		if signed {
			m.SetTsig("legacy-xfr.", dns.HmacSHA256, 300, time.Now().Unix())
			cl.TsigSecret = map[string]string{"legacy-xfr.": key.Secret}
		}
		r, _, err := cl.Exchange(m, follower.dnsAddr)
		if err != nil {
			t.Fatalf("NOTIFY for %s to %s: %v", zone, follower.dnsAddr, err)
		}
		return r.Rcode
	}
	for _, tc := range []struct {
		zone   string
		signed bool
		want   int
	}{
		{"legacy.test.", true, dns.RcodeSuccess},
		{"legacy.test.", false, dns.RcodeRefused},
		{"other.test.", false, dns.RcodeNotAuth}, // unsigned: miekg/dns takes any signed NOTAUTH for a bad signature
	} {
		if got := notify(tc.zone, tc.signed); got != tc.want {
			t.Errorf("NOTIFY for %s (signed %v) at the follower: %s, want %s", tc.zone, tc.signed, dns.RcodeToString[got], dns.RcodeToString[tc.want])
		}
	}
}
