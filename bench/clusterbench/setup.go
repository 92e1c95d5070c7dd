package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// cluster is the etcd members (none on bbolt) and the Stratus nodes of
// one setup.
type cluster struct {
	name  string
	etcd  *etcdCluster
	nodes []*node
}

func (c *cluster) stop() {
	for _, n := range c.nodes {
		n.stop()
	}
	if c.etcd != nil {
		c.etcd.stop()
	}
}

func (c *cluster) nodeCPU() float64 {
	var s float64
	for _, n := range c.nodes {
		s += n.cpu()
	}
	return s
}

func (c *cluster) etcdCPU() float64 {
	if c.etcd == nil {
		return 0
	}
	return c.etcd.cpu()
}

// startSetup starts a setup: bolt (one node on bbolt), etcd1 (one node on
// a one-member etcd) or etcd3 (three nodes on a three-member etcd, one
// prefix).
func startSetup(ctx context.Context, o *options, dir, kind string, no nodeOpts) (*cluster, error) {
	return startSetupFrom(ctx, o, dir, kind, no, nil)
}

// startSetupFrom starts a setup whose store begins as a copy of the
// stopped node seed's (stratus store copy for etcd, a file copy for
// bbolt), with seed's admin token; nil starts empty.
func startSetupFrom(ctx context.Context, o *options, dir, kind string, no nodeOpts, seed *node) (*cluster, error) {
	c := &cluster{name: kind}
	nodes, members := 1, 0
	switch kind {
	case "etcd1":
		members = 1
	case "etcd3":
		nodes, members = 3, 3
	}
	if members > 0 {
		ec, err := startEtcd(ctx, filepath.Join(dir, kind), members)
		if err != nil {
			return nil, err
		}
		c.etcd = ec
		no.etcd, no.prefix = ec.clients, "stratus/bench/"
	}
	if seed != nil {
		no.tokenFrom = seed.tokenFile()
		db := filepath.Join(seed.dir, "data", "stratus.db")
		var err error
		if c.etcd != nil {
			to := "etcd://" + strings.Join(trimScheme(c.etcd.clients), ",") + "/" + no.prefix
			_, err = runCmd(o.bin, "store", "copy", "--from", "bolt:"+db, "--to", to)
		} else {
			err = os.MkdirAll(filepath.Join(dir, kind, "node0", "data"), 0o700)
			if err == nil {
				_, err = runCmd("cp", db, filepath.Join(dir, kind, "node0", "data", "stratus.db"))
			}
		}
		if err != nil {
			c.stop()
			return nil, err
		}
	}
	for i := 0; i < nodes; i++ {
		nd := no
		if i > 0 && seed == nil {
			nd.tokenFrom = c.nodes[0].tokenFile()
		}
		if i > 0 {
			// Each node talks to its own member first, as in a
			// deployment of one member and one node per machine.
			nd.etcd = append([]string{no.etcd[i]}, no.etcd[:i]...)
			nd.etcd = append(nd.etcd, no.etcd[i+1:]...)
		}
		n, err := startNode(ctx, o.bin, filepath.Join(dir, kind, fmt.Sprintf("node%d", i)), nd)
		if err != nil {
			c.stop()
			return nil, err
		}
		c.nodes = append(c.nodes, n)
	}
	return c, nil
}

// createZone creates zone (with its NS name's address) through n.
func createZone(ctx context.Context, n *node, zone string) error {
	_, err := n.cl.CreateZone(ctx, apiv1.CreateZoneRequest{Name: zone, Nameservers: []string{"ns1." + zone}})
	if err != nil {
		return fmt.Errorf("create zone %s: %v", zone, err)
	}
	_, err = n.cl.SetRRset(ctx, zone, "ns1", "A", nil, []string{"192.0.2.53"}, nil)
	return err
}

// hostAddr is the address of name h<i>.
func hostAddr(i int) string {
	return fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)
}

// loadHosts adds names h0..h<count-1> (A records) to zone in changes of
// 50 RRsets: one change fits in one etcd transaction under etcd's default
// --max-txn-ops.
func loadHosts(ctx context.Context, n *node, zone string, count int) error {
	for i := 0; i < count; i += 50 {
		var ch []apiv1.Change
		for j := i; j < min(i+50, count); j++ {
			ch = append(ch, apiv1.Change{Op: "set", Name: fmt.Sprintf("h%d", j), Type: "A", Records: []string{hostAddr(j)}})
		}
		if _, err := n.cl.ChangeRRsets(ctx, zone, ch, nil); err != nil {
			return fmt.Errorf("load %s: %v", zone, err)
		}
	}
	return nil
}

// queryFile writes count random queries for names h0..h<names-1> of zone.
func queryFile(path, zone string, names, count int) error {
	r := rand.New(rand.NewSource(1))
	var b strings.Builder
	for i := 0; i < count; i++ {
		fmt.Fprintf(&b, "h%d.%s A\n", r.Intn(names), zone)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// pct returns the p-th percentile (0..100) of sorted durations.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p / 100)
	return d[i]
}

func sortDur(d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func trimScheme(urls []string) []string {
	var out []string
	for _, u := range urls {
		out = append(out, strings.TrimPrefix(u, "http://"))
	}
	return out
}

// runCmd runs a command and returns its output, or an error with it.
func runCmd(args ...string) (string, error) {
	b, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return string(b), nil
}
