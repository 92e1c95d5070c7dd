package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// clusterOf asks node s for GET /v1/cluster.
func (c *stratusCluster) clusterOf(s *server) (apiv1.Cluster, error) {
	st, body, err := apiDo(c.token, s.apiAddr, "GET", "/v1/cluster", "")
	if err != nil {
		return apiv1.Cluster{}, err
	}
	if st != 200 {
		return apiv1.Cluster{}, fmt.Errorf("GET /v1/cluster: %d %s", st, body)
	}
	var out apiv1.Cluster
	return out, json.Unmarshal([]byte(body), &out)
}

// leaders returns the members whose records say they lead.
func leaders(cl apiv1.Cluster) []string {
	var out []string
	for _, m := range cl.Members {
		if m.Leader {
			out = append(out, m.Node)
		}
	}
	return out
}

// waitLeader waits until node s reports n members and one leader, the
// same in the election and in the member records, other than not, and
// returns its name.
func (c *stratusCluster) waitLeader(s *server, n int, not string) string {
	c.t.Helper()
	var leader string
	waitUntil(c.t, fmt.Sprintf("%d members and one leader (not %q) at %s", n, not, s.apiAddr), 60*time.Second, func() (bool, string) {
		cl, err := c.clusterOf(s)
		if err != nil {
			return false, err.Error()
		}
		ls := leaders(cl)
		if len(cl.Members) != n || len(ls) != 1 || ls[0] != cl.Leader || cl.Leader == not {
			return false, fmt.Sprintf("%+v", cl)
		}
		leader = cl.Leader
		return true, ""
	})
	return leader
}

// node returns the node named name (node1, node2, ...).
func (c *stratusCluster) node(name string) *server {
	var i int
	fmt.Sscanf(name, "node%d", &i)
	return c.nodes[i-1]
}

// TestClusterStatusCLI: `stratus cluster status` against a running cluster
// of three nodes lists the three, exactly one of them leading.
func TestClusterStatusCLI(t *testing.T) {
	ec := startEtcdCluster(t)
	c := startStratusClusterTTL(t, binary, ec, repeat("stratus/", 3), 3*time.Second, "")
	leader := c.waitLeader(c.nodes[1], 3, "")
	out := c.nodes[1].mustCLI("cluster", "status")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "NODE") {
		t.Fatalf("cluster status:\n%s", out)
	}
	stars := 0
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if f[0] != fmt.Sprintf("node%d", i+1) || f[2] != c.nodes[i].apiAddr {
			t.Errorf("row %d: %q", i+1, l)
		}
		if f[1] == "*" {
			stars++
			if f[0] != leader {
				t.Errorf("row %q leads, the election says %s", l, leader)
			}
		}
	}
	if stars != 1 {
		t.Errorf("%d leaders in:\n%s", stars, out)
	}
	var cl apiv1.Cluster
	if err := json.Unmarshal([]byte(c.nodes[2].mustCLI("cluster", "status", "-o", "json")), &cl); err != nil {
		t.Fatal(err)
	}
	if cl.Node != "node3" || cl.Leader != leader || len(cl.Members) != 3 {
		t.Errorf("cluster status -o json at node3: %+v", cl)
	}
	t.Logf("\n%s", out)
}

// leaderEnv is a cluster of three nodes with a zone fn.example.com whose
// steered service api (pools primary 127.0.0.2, backup 127.0.0.4) is
// materialised for a BIND secondary notified by the leader, and a service
// reg whose pool reg holds leased endpoints.
type leaderEnv struct {
	c      *stratusCluster
	leader string
	sec    *namedSecondary
}

const (
	leaderZone = "fn.example.com"
	leaderSvc  = "api.fn.example.com"
	leaseSvc   = "reg.fn.example.com"
)

func startLeaderEnv(t *testing.T, ttl time.Duration, yaml, firstYAML string) *leaderEnv {
	t.Helper()
	ec := startEtcdCluster(t)
	c := startStratusClusterEach(t, binary, ec, repeat("stratus/", 3), ttl, func(i int) string {
		if i == 0 {
			return yaml + firstYAML
		}
		return yaml
	})
	e := &leaderEnv{c: c}
	e.leader = c.waitLeader(c.nodes[0], 3, "")
	s := e.follower()
	var key apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(s.mustCLI("tsig", "create", "xfr", "-o", "json")), &key); err != nil {
		t.Fatal(err)
	}
	steerZone(t, s, leaderZone)
	s.mustCLI("zone", "update", leaderZone, "--allow-transfer", "key=xfr")
	steerService(t, s, `{"name":"`+leaderSvc+`","policy":"failover","pools":[{"name":"primary","priority":1},{"name":"backup","priority":2}]}`)
	steerEndpoint(t, s, leaderSvc, "p1", `{"pool":"primary","address":"127.0.0.2"}`)
	steerEndpoint(t, s, leaderSvc, "b1", `{"pool":"backup","address":"127.0.0.4"}`)
	steerLeaseService(t, s, leaseSvc)
	// named transfers from a follower (every node serves the store) and
	// is notified by the leader, from 127.0.0.1 like every node.
	e.sec = startNamedSecondary(t, s.dnsAddr, tsigKeyConf{"xfr", "hmac-sha256", key.Secret}, false, leaderZone)
	s.mustCLI("zone", "update", leaderZone, "--notify", e.sec.addr+",key=xfr")
	e.sec.waitAnswer(leaderSvc+".", dns.TypeA, 60*time.Second, answerIs("127.0.0.2"))
	return e
}

// follower returns the first node that does not lead.
func (e *leaderEnv) follower() *server {
	for i, s := range e.c.nodes {
		if fmt.Sprintf("node%d", i+1) != e.leader {
			return s
		}
	}
	panic("no follower")
}

// newestJournal returns the newest entry of the zone's journal at s.
func newestJournal(t *testing.T, c *stratusCluster, s *server) apiv1.JournalEntry {
	t.Helper()
	var j apiv1.Journal
	if err := json.Unmarshal([]byte(c.mustAPI(s, 200, "GET", "/v1/zones/"+leaderZone+"/journal?order=newest&limit=1", "")), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Entries) == 0 {
		t.Fatal("empty journal")
	}
	return j.Entries[0]
}

// TestClusterLeaderKilled: the leader is killed with SIGKILL; another
// node leads within the session ttl, and the leader's work resumes there:
// an endpoint whose lease lapses after the kill is deleted from the store,
// and a change of a steered answer after the kill is materialised and
// reaches a BIND secondary by NOTIFY and IXFR. STRATUS_LEADER_RUNS runs it
// several times, each on a fresh cluster, and logs the gaps.
func TestClusterLeaderKilled(t *testing.T) {
	runs := 1
	if v := os.Getenv("STRATUS_LEADER_RUNS"); v != "" {
		fmt.Sscanf(v, "%d", &runs)
	}
	const ttl = 3 * time.Second
	for run := 1; run <= runs; run++ {
		t.Run(fmt.Sprintf("run%d", run), func(t *testing.T) {
			e := startLeaderEnv(t, ttl, "", "")
			s := e.follower()
			steerRegister(t, s, leaseSvc, "r1", "127.0.0.21", "5s")
			before := newestJournal(t, e.c, s)

			killed := time.Now()
			kill9(e.c.node(e.leader))
			steerMustCLI(t, s, "pool", "drain", leaderSvc, "primary")

			next := e.c.waitLeader(s, 2, e.leader)
			toLeader := time.Since(killed)
			e.sec.waitAnswer(leaderSvc+".", dns.TypeA, 60*time.Second, answerIs("127.0.0.4"))
			toSecondary := time.Since(killed)
			var written apiv1.JournalEntry
			waitUntil(t, "the materialised answer in the journal", 60*time.Second, func() (bool, string) {
				written = newestJournal(t, e.c, s)
				return written.Seq > before.Seq && written.Actor == "steering", fmt.Sprintf("%+v", written)
			})
			waitUntil(t, "the lapsed endpoint r1 reaped by "+next, 60*time.Second, func() (bool, string) {
				eps := steerEndpoints(t, s, leaseSvc)
				_, ok := eps["r1"]
				return !ok, fmt.Sprint(eps)
			})
			toReaped := time.Since(killed)
			t.Logf("ttl %v: %s killed, %s leads after %v; first materialised write %v after the kill; BIND secondary answers the backup after %v; lapsed endpoint reaped after %v",
				ttl, e.leader, next, toLeader.Round(time.Millisecond), written.Time.Sub(killed).Round(time.Millisecond),
				toSecondary.Round(time.Millisecond), toReaped.Round(time.Millisecond))
		})
	}
}

// answerIs returns a check that the answer's A records are want.
func answerIs(want ...string) func(*dns.Msg) bool {
	return func(r *dns.Msg) bool {
		var got []string
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok {
				got = append(got, a.A.String())
			}
		}
		return strings.Join(got, ",") == strings.Join(want, ",")
	}
}

// TestClusterFrozenLeaderFenced: the leader runs a scheduled drill (under
// its term's fence; drills started by hand live with their node instead)
// that holds a fault, and is frozen
// (SIGSTOP) for longer than its session ttl; another node leads. Thawed
// (SIGCONT), the old node's term has ended: the drill stops and its late
// writes (renewing the fault, clearing it, keeping its report) are
// refused by etcd, and the node follows. Shown by the state: one leader,
// the new one, the old node's record not leading and caught up; the
// service's version unchanged since the fault was set (no renewal, no
// clearing written), no run of the drill kept; the fault ends with its
// lease and the new leader materialises the primary's answer again, which
// reaches the BIND secondary.
func TestClusterFrozenLeaderFenced(t *testing.T) {
	const ttl = 3 * time.Second
	scenario := steerWrite(t, "hold.yaml", fmt.Sprintf(`name: hold
services: [%s]
nameservers: [{name: none, address: "127.0.0.1:%d"}]
interval: 1s
steps:
  - fail: {service: %s, pool: primary}
  - wait: 5m
`, leaderSvc, freePort(t), leaderSvc))
	// Only the first node, which leads first, schedules the drill: the
	// leader after it has none to run, so what the old leader's run
	// writes after the thaw is all that could change the service.
	e := startLeaderEnv(t, ttl, "", "drills:\n  - scenario: "+scenario+"\n    every: 1m\n")
	if e.leader != "node1" {
		t.Fatalf("%s leads, want node1, the first started", e.leader)
	}
	old := e.c.node(e.leader)
	s := e.follower()
	var svc apiv1.Service
	e.sec.waitAnswer(leaderSvc+".", dns.TypeA, 2*time.Minute, answerIs("127.0.0.4"))
	waitUntil(t, "the drill's fault", 60*time.Second, func() (bool, string) {
		svc = apiv1.Service{}
		steerGetJSON(t, s, "/v1/services/"+leaderSvc, &svc)
		o := svc.Pools[0].Override
		return o != nil && o.State == "down" && o.Expires != nil, fmt.Sprintf("%+v", svc.Pools[0])
	})
	faulted := svc.Version

	old.signal(syscall.SIGSTOP)
	thawed := false
	t.Cleanup(func() {
		if !thawed {
			old.signal(syscall.SIGCONT)
		}
	})
	next := e.c.waitLeader(s, 2, e.leader)
	old.signal(syscall.SIGCONT)
	thawed = true
	waitUntil(t, "the thawed node to follow "+next, 60*time.Second, func() (bool, string) {
		cl, err := e.c.clusterOf(old)
		if err != nil {
			return false, err.Error()
		}
		if cl.Leader != next || len(cl.Members) != 3 || len(leaders(cl)) != 1 {
			return false, fmt.Sprintf("%+v", cl)
		}
		for _, m := range cl.Members {
			if m.Node == e.leader && !m.Leader && m.Lag == 0 {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", cl)
	})
	// The fault ends with its lease, not by the old node's clearing: the
	// new leader materialises the primary again.
	e.sec.waitAnswer(leaderSvc+".", dns.TypeA, 60*time.Second, answerIs("127.0.0.2"))
	svc = apiv1.Service{}
	steerGetJSON(t, s, "/v1/services/"+leaderSvc, &svc)
	if svc.Version != faulted {
		t.Errorf("service version %d after the thaw, want %d: a write of the deposed leader's drill went through", svc.Version, faulted)
	}
	var runs apiv1.DrillRunList
	if err := json.Unmarshal([]byte(s.mustCLI("drill", "list", "--drill", "hold", "-o", "json")), &runs); err != nil {
		t.Fatal(err)
	}
	if len(runs.Runs) != 0 {
		t.Errorf("the deposed leader's drill report was kept: %+v", runs.Runs)
	}
	out := s.mustCLI("cluster", "status")
	t.Logf("after the thaw:\n%s", out)
}
