package config

import (
	"fmt"
	"os"
	"time"
)

// Cluster names this node in its cluster and bounds its session.
type Cluster struct {
	// Node is the node's name, unique in the cluster (default: the host
	// name).
	Node string `yaml:"node"`
	// SessionTTL is how long the node's session (its member record, its
	// leadership) outlives its last contact with etcd (default 10s).
	SessionTTL time.Duration `yaml:"session_ttl"`
}

// Bounds and default of cluster.session_ttl.
const (
	DefaultSessionTTL = 5 * time.Second
	MinSessionTTL     = 2 * time.Second
	MaxSessionTTL     = 10 * time.Minute
	maxNodeName       = 63
)

// NodeName returns cluster.node, or the host name when it is not set.
func (c *Cluster) NodeName() (string, error) {
	if c.Node != "" {
		return c.Node, nil
	}
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("cluster.node: not set, and the host name is unknown (%v)", err)
	}
	if err := checkNodeName(h); err != nil {
		return "", fmt.Errorf("cluster.node: not set, and the host name %v; set cluster.node", err)
	}
	return h, nil
}

// TTL returns cluster.session_ttl, or its default.
func (c *Cluster) TTL() time.Duration {
	if c.SessionTTL == 0 {
		return DefaultSessionTTL
	}
	return c.SessionTTL
}

func (c *Cluster) check() error {
	if c.Node != "" {
		if err := checkNodeName(c.Node); err != nil {
			return fmt.Errorf("cluster.node: %v", err)
		}
	}
	if t := c.SessionTTL; t != 0 && (t < MinSessionTTL || t > MaxSessionTTL) {
		return fmt.Errorf("cluster.session_ttl: %v is outside %v..%v", t, MinSessionTTL, MaxSessionTTL)
	}
	if c.SessionTTL%time.Second != 0 {
		return fmt.Errorf("cluster.session_ttl: %v is not a whole number of seconds (etcd leases count seconds)", c.SessionTTL)
	}
	return nil
}

// checkNodeName accepts 1 to 63 letters, digits, '.', '_' and '-',
// starting with a letter or digit: a name that fits a key and a table.
func checkNodeName(s string) error {
	if s == "" || len(s) > maxNodeName {
		return fmt.Errorf("%q must be 1 to %d characters long", s, maxNodeName)
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok && (i == 0 || r != '.' && r != '_' && r != '-') {
			return fmt.Errorf("%q may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit", s)
		}
	}
	return nil
}
