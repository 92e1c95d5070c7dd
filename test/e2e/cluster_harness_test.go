package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/stratusdns/stratus/internal/testutil"
)

// etcdMember is one member of the etcd cluster a cluster test starts.
type etcdMember struct {
	name   string
	client string // http://127.0.0.1:port
	dir    string
	args   []string // etcd's command line, the same at a restart
	cmd    *exec.Cmd
	exited chan struct{}
}

// start starts the member with its arguments; fatal when it cannot.
func (m *etcdMember) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(m.args[0], m.args[1:]...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	m.cmd, m.exited = cmd, exited
}

// restart starts a member killed before on its data directory and
// ports; etcd ignores the initial-cluster flags once its data exists.
func (m *etcdMember) restart(t *testing.T) {
	t.Helper()
	select {
	case <-m.exited:
	default:
		t.Fatalf("etcd %s restarted while running", m.name)
	}
	m.start(t)
}

// kill9 kills the member with SIGKILL and waits until it has exited.
func (m *etcdMember) kill9() {
	m.cmd.Process.Kill()
	<-m.exited
}

// etcdCluster is a three-member etcd cluster on loopback.
type etcdCluster struct {
	t       *testing.T
	members []*etcdMember
}

// endpoints returns the client URLs of every member.
func (c *etcdCluster) endpoints() []string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.client)
	}
	return eps
}

// startEtcdCluster starts a three-member etcd cluster on free loopback
// ports, each member with its own data directory, waits until every
// member reports the same leader, and stops the members when the test
// ends.
func startEtcdCluster(t *testing.T) *etcdCluster {
	t.Helper()
	return startEtcdClusterAt(t, "127.0.0.1")
}

// startEtcdClusterAt is startEtcdCluster with the members' client URLs on
// host (their peers stay on loopback).
func startEtcdClusterAt(t *testing.T, host string) *etcdCluster {
	t.Helper()
	bin := testutil.Tool(t, "etcd")
	c := &etcdCluster{t: t}
	var initial []string
	peers := map[string]string{}
	for i := range 3 {
		m := &etcdMember{
			name:   fmt.Sprintf("m%d", i),
			client: fmt.Sprintf("http://%s:%d", host, freePort(t)),
			dir:    t.TempDir(),
		}
		peers[m.name] = fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		initial = append(initial, m.name+"="+peers[m.name])
		c.members = append(c.members, m)
	}
	for _, m := range c.members {
		m.args = []string{bin, "--name", m.name, "--data-dir", filepath.Join(m.dir, "data"),
			"--listen-client-urls", m.client, "--advertise-client-urls", m.client,
			"--listen-peer-urls", peers[m.name], "--initial-advertise-peer-urls", peers[m.name],
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "stratus-e2e",
			"--logger", "zap", "--log-outputs", filepath.Join(m.dir, "etcd.log")}
		m.start(t)
		t.Cleanup(func() {
			m.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-m.exited:
			case <-time.After(10 * time.Second):
				m.cmd.Process.Kill()
				<-m.exited
			}
			if t.Failed() {
				b, _ := os.ReadFile(filepath.Join(m.dir, "etcd.log"))
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				t.Logf("etcd %s log (last lines):\n%s", m.name, strings.Join(lines[max(0, len(lines)-10):], "\n"))
			}
		})
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		leader, err := c.leader()
		if err == nil && leader != nil {
			return c
		}
		for _, m := range c.members {
			select {
			case <-m.exited:
				t.Fatalf("etcd %s exited during start", m.name)
			default:
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the etcd cluster has no leader answering within 60s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leader returns the member every live member names as leader, after a
// write through the cluster succeeded; an error says why there is none.
func (c *etcdCluster) leader() (*etcdMember, error) {
	var live []*etcdMember
	for _, m := range c.members {
		select {
		case <-m.exited:
		default:
			live = append(live, m)
		}
	}
	var eps []string
	for _, m := range live {
		eps = append(eps, m.client)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var id uint64
	var leader *etcdMember
	for _, m := range live {
		st, err := cli.Status(ctx, m.client)
		if err != nil {
			return nil, fmt.Errorf("status of %s: %w", m.name, err)
		}
		if st.Leader == 0 || (id != 0 && st.Leader != id) {
			return nil, fmt.Errorf("%s names leader %x, others %x", m.name, st.Leader, id)
		}
		id = st.Leader
		if st.Header.MemberId == st.Leader {
			leader = m
		}
	}
	if leader == nil {
		return nil, fmt.Errorf("leader %x is not a live member", id)
	}
	if _, err := cli.Put(ctx, "e2e-probe", "ok"); err != nil {
		return nil, fmt.Errorf("a write: %w", err)
	}
	return leader, nil
}

// stratusCluster is N Stratus nodes on one etcd cluster and one prefix.
type stratusCluster struct {
	t     *testing.T
	etcd  *etcdCluster
	nodes []*server
	token string // the admin token, the same on every node
	// auditKey is the audit key file's content, the same on every node.
	auditKey []byte
}

// startStratusCluster starts n Stratus nodes sharing prefix on the etcd
// cluster, each with its own DNS and API ports and data directory. The
// first node creates the admin token; it is copied to the others' data
// directories before they start, as README's "Cluster on etcd" says.
// Extra arguments go to every node's serve.
func startStratusCluster(t *testing.T, ec *etcdCluster, n int, prefix string, extra ...string) *stratusCluster {
	t.Helper()
	return startStratusClusterPrefixes(t, ec, repeat(prefix, n), extra...)
}

// startStratusClusterPrefixes is startStratusCluster with a prefix per
// node (nodes on different prefixes share nothing).
func startStratusClusterPrefixes(t *testing.T, ec *etcdCluster, prefixes []string, extra ...string) *stratusCluster {
	t.Helper()
	return startStratusClusterWith(t, binary, ec, prefixes, extra...)
}

// rrlExemptLoopback is the config section that exempts loopback clients
// from the DNS rate limit, for tests and benchmarks that ask one name
// faster than any client would (hundreds of queries back to back).
const rrlExemptLoopback = "dns:\n  rrl:\n    exempt: [127.0.0.0/8]\n"

// startStratusClusterWith is startStratusClusterPrefixes running the
// binary at bin.
func startStratusClusterWith(t *testing.T, bin string, ec *etcdCluster, prefixes []string, extra ...string) *stratusCluster {
	t.Helper()
	return startStratusClusterTTL(t, bin, ec, prefixes, 0, "", extra...)
}

// startStratusClusterTTL is startStratusClusterWith with the nodes'
// cluster.session_ttl (0: the default) and more of the config file
// (yaml). The nodes are named node1, node2, ... (cluster.node), in the
// order of prefixes.
func startStratusClusterTTL(t *testing.T, bin string, ec *etcdCluster, prefixes []string, ttl time.Duration, yaml string, extra ...string) *stratusCluster {
	t.Helper()
	return startStratusClusterEach(t, bin, ec, prefixes, ttl, func(int) string { return yaml }, extra...)
}

// startStratusClusterEach is startStratusClusterTTL with more of the
// config file for each node: yamlOf(i) for node i+1. The first node leads:
// the others start once it does.
func startStratusClusterEach(t *testing.T, bin string, ec *etcdCluster, prefixes []string, ttl time.Duration, yamlOf func(i int) string, extra ...string) *stratusCluster {
	t.Helper()
	c := &stratusCluster{t: t, etcd: ec}
	eps := strings.Join(ec.endpoints(), ", ")
	var auditKey []byte
	for i, prefix := range prefixes {
		dataDir := t.TempDir()
		if i > 0 {
			if err := os.WriteFile(filepath.Join(dataDir, "admin.token"), []byte(c.token+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dataDir, "audit.key"), auditKey, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cfg := etcdConfig(t, eps, prefix)
		section := fmt.Sprintf("cluster:\n  node: node%d\n", i+1)
		if ttl > 0 {
			section += fmt.Sprintf("  session_ttl: %v\n", ttl)
		}
		appendFile(t, cfg, section+yamlOf(i))
		s := startServerWith(t, bin, dataDir, append([]string{"--config", cfg}, extra...)...)
		if i == 0 {
			c.token = s.token()
			var err error
			if auditKey, err = os.ReadFile(filepath.Join(dataDir, "audit.key")); err != nil {
				t.Fatal(err)
			}
			c.auditKey = auditKey
			c.waitLeader(s, 1, "")
		}
		c.nodes = append(c.nodes, s)
	}
	return c
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// kill9 kills a Stratus node with SIGKILL and waits until it has exited.
func kill9(s *server) {
	s.cmd.Process.Kill()
	<-s.exited
}

// clusterHTTP is the client of cluster tests' API requests.
var clusterHTTP = &http.Client{Timeout: 30 * time.Second}

// apiDo sends an authenticated API request to the node at apiAddr and
// returns the status and body, or the error of the exchange; safe from
// any goroutine.
func apiDo(token, apiAddr, method, path, body string) (int, string, error) {
	return apiDoWith(clusterHTTP, token, apiAddr, method, path, body)
}

// apiDoWith is apiDo with the HTTP client hc.
func apiDoWith(hc *http.Client, token, apiAddr, method, path, body string) (int, string, error) {
	req, err := http.NewRequest(method, "http://"+apiAddr+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// mustAPI sends a request to node s and fails the test unless it answers
// want.
func (c *stratusCluster) mustAPI(s *server, want int, method, path, body string) string {
	c.t.Helper()
	st, b, err := apiDo(c.token, s.apiAddr, method, path, body)
	if err != nil || st != want {
		c.t.Fatalf("%s %s at %s: %d %v %s; want %d", method, path, s.apiAddr, st, err, b, want)
	}
	return b
}

// createZone creates zone through node s.
func (c *stratusCluster) createZone(s *server, zone string) {
	c.t.Helper()
	c.mustAPI(s, 201, "POST", "/v1/zones", fmt.Sprintf(`{"name":%q,"nameservers":["ns1.%s"]}`, zone, zone))
}

// putA sets name's A RRset in zone through the node at apiAddr.
func putA(token, apiAddr, zone, name, addr string) (int, string, error) {
	return apiDo(token, apiAddr, "PUT", "/v1/zones/"+zone+"/rrsets/"+name+"/A", `{"ttl":60,"records":["`+addr+`"]}`)
}

// answerA returns the addresses of the A records at name the DNS server
// at addr answers, or the error of the exchange.
func answerA(addr, name string) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, addr)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out, nil
}

// digA asks the node with dig for name's A records and returns the
// addresses, one per line.
func digA(t *testing.T, s *server, name string) string {
	t.Helper()
	out, _, code := digTool(t, s).run(t, "+short", "+time=2", "+tries=1", name, "A")
	if code != 0 {
		return ""
	}
	return strings.TrimSpace(out)
}

// waitUntil polls cond until it holds, and fails the test with what and
// cond's last word after within (at least waitFloor).
func waitUntil(t *testing.T, what string, within time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(max(within, waitFloor))
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, max(within, waitFloor), last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exchangeSOA returns the serial of zone's SOA the DNS server at addr
// answers, or an error when it answers none.
func exchangeSOA(addr, zone string) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, addr)
	if err != nil {
		return 0, err
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("no SOA for %s at %s (rcode %s)", zone, addr, dns.RcodeToString[r.Rcode])
}

// appendFile appends text to the file at path.
func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
