package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/stratusdns/stratus/bench/benchproc"
	"github.com/stratusdns/stratus/pkg/client"
)

// proc is one process the benchmark started; stop ends it (and only it).
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func start(name, logPath string, env []string, args ...string) (*proc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { cmd.Wait(); lf.Close(); close(p.done) }()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// failure describes an exited process with the end of its log.
func (p *proc) failure() error {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return fmt.Errorf("%s exited: %s", p.name, strings.Join(lines[max(0, len(lines)-15):], "\n"))
}

func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// cpu returns the user+system CPU seconds of the process so far.
func (p *proc) cpu() float64 { return benchproc.CPU(p.pid()) }

// freePort returns a loopback port free at the time of the call.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// etcdCluster is n etcd members on loopback, started as test/e2e does.
type etcdCluster struct {
	members []*proc
	clients []string
}

func startEtcd(ctx context.Context, dir string, n int) (*etcdCluster, error) {
	c := &etcdCluster{}
	var initial, peers []string
	for i := 0; i < n; i++ {
		c.clients = append(c.clients, fmt.Sprintf("http://127.0.0.1:%d", freePort()))
		peers = append(peers, fmt.Sprintf("http://127.0.0.1:%d", freePort()))
		initial = append(initial, fmt.Sprintf("m%d=%s", i, peers[i]))
	}
	for i := 0; i < n; i++ {
		md := filepath.Join(dir, fmt.Sprintf("etcd-m%d", i))
		if err := os.MkdirAll(md, 0o700); err != nil {
			return nil, err
		}
		p, err := start(fmt.Sprintf("etcd m%d", i), filepath.Join(md, "etcd.log"), nil, "etcd",
			"--name", fmt.Sprintf("m%d", i), "--data-dir", filepath.Join(md, "data"),
			"--listen-client-urls", c.clients[i], "--advertise-client-urls", c.clients[i],
			"--listen-peer-urls", peers[i], "--initial-advertise-peer-urls", peers[i],
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "stratus-bench")
		if err != nil {
			c.stop()
			return nil, err
		}
		c.members = append(c.members, p)
	}
	deadline := time.Now().Add(60 * time.Second)
	for i, u := range c.clients {
		for {
			r, err := http.Get(u + "/health")
			if err == nil {
				b := make([]byte, 128)
				k, _ := r.Body.Read(b)
				r.Body.Close()
				if strings.Contains(string(b[:k]), `"true"`) {
					break
				}
			}
			if c.members[i].exited() {
				c.stop()
				return nil, c.members[i].failure()
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				c.stop()
				return nil, fmt.Errorf("etcd m%d not healthy within 60s", i)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c, nil
}

func (c *etcdCluster) stop() {
	for _, m := range c.members {
		m.stop()
	}
}

func (c *etcdCluster) cpu() float64 {
	var s float64
	for _, m := range c.members {
		s += m.cpu()
	}
	return s
}

// node is one stratus serve process.
type node struct {
	*proc
	dir     string
	dnsPort int
	apiURL  string
	cl      *client.Client
}

// nodeOpts says how to start a node.
type nodeOpts struct {
	etcd      []string // the etcd endpoints; none: bbolt in the data directory
	prefix    string
	tokenFrom string // the admin token file to copy in (nodes after the first)
	env       []string
	pin       string // taskset -c CPU list, "" for none
	udpRead   int
}

func startNode(ctx context.Context, bin, dir string, o nodeOpts) (*node, error) {
	n := &node{dir: dir, dnsPort: freePort()}
	apiPort := freePort()
	n.apiURL = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return nil, err
	}
	// The rate limit per token is lifted: the benchmark measures what
	// the nodes can do, also when offered more than a token may send.
	// The query load comes from loopback, far faster than any client
	// would ask: exempt from response rate limiting.
	conf := fmt.Sprintf("dns:\n  listen: [\"127.0.0.1:%d\"]\n  udp_readers: %d\n  rrl:\n    exempt: [127.0.0.0/8]\napi:\n  listen: 127.0.0.1:%d\n  rate_limit: {per_token: 1000000, burst: 1000000}\nlog:\n  level: warn\n", n.dnsPort, o.udpRead, apiPort)
	if len(o.etcd) > 0 {
		conf += fmt.Sprintf("store:\n  etcd:\n    endpoints: [%s]\n    prefix: %s\n", strings.Join(o.etcd, ", "), o.prefix)
	}
	if err := os.WriteFile(filepath.Join(dir, "stratus.yaml"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	tokenPath := filepath.Join(dir, "data", "admin.token")
	if o.tokenFrom != "" {
		b, err := os.ReadFile(o.tokenFrom)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(tokenPath, b, 0o600); err != nil {
			return nil, err
		}
		// Every node needs the first node's audit key, beside its token.
		key, err := os.ReadFile(filepath.Join(filepath.Dir(o.tokenFrom), "audit.key"))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "data", "audit.key"), key, 0o600); err != nil {
			return nil, err
		}
	}
	args := []string{bin, "serve", "--config", filepath.Join(dir, "stratus.yaml"), "--data-dir", filepath.Join(dir, "data")}
	if o.pin != "" {
		args = append([]string{"taskset", "-c", o.pin}, args...)
	}
	p, err := start("stratus "+filepath.Base(dir), filepath.Join(dir, "stratus.log"), o.env, args...)
	if err != nil {
		return nil, err
	}
	n.proc = p
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(tokenPath); err == nil && len(b) > 0 {
			n.cl = client.New(n.apiURL, strings.TrimSpace(string(b)))
			if _, err := n.cl.Zones(ctx); err == nil {
				return n, nil
			}
		}
		if p.exited() {
			return nil, p.failure()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, fmt.Errorf("%s: API not up within 60s", p.name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *node) tokenFile() string { return filepath.Join(n.dir, "data", "admin.token") }
