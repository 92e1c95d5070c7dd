package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestClusterAudit: on etcd, changes made through either node are one
// audit log that either node verifies with the audit key they share; a
// node given another key refuses to start, naming audit.key_file.
func TestClusterAudit(t *testing.T) {
	ec := startEtcdCluster(t)
	const prefix = "stratus/audit/"
	c := startStratusCluster(t, ec, 2, prefix)
	a, b := c.nodes[0], c.nodes[1]
	c.createZone(b, "audit.test.")
	for i, n := range []*server{a, b, a} {
		c.mustAPI(n, 200, "PATCH", "/v1/zones/audit.test./rrsets",
			fmt.Sprintf(`{"changes":[{"op":"add","name":"h%d.audit.test.","type":"A","ttl":60,"records":["192.0.2.%d"]}]}`, i, i+1))
	}
	var v apiv1.AuditVerification
	for _, n := range []*server{a, b} {
		if err := json.Unmarshal([]byte(c.mustAPI(n, 200, "GET", "/v1/audit/verify", "")), &v); err != nil {
			t.Fatal(err)
		}
		if !v.OK || v.Entries != 5 { // the admin token, the zone and its three changes
			t.Errorf("verify at %s: %+v", n.apiAddr, v)
		}
	}
	var log apiv1.AuditLog
	if err := json.Unmarshal([]byte(c.mustAPI(a, 200, "GET", "/v1/audit?object=zone:audit.test.", "")), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Entries) != 4 || log.Entries[3].Seq != 4 || log.Entries[3].Actor.Name != "admin" || !strings.HasPrefix(log.Entries[3].Source, "127.0.0.1:") {
		t.Errorf("the zone's entries: %+v", log.Entries)
	}

	// A third node with a key of its own (made at its first start).
	cfg := etcdConfig(t, strings.Join(ec.endpoints(), ", "), prefix)
	appendFile(t, cfg, "cluster:\n  node: node3\n")
	s := launch(t, binary, t.TempDir(), "--config", cfg)
	select {
	case <-s.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("a node with another audit key did not exit within 60s")
	}
	if code := s.cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(s.logs.String(), "audit.key_file") {
		t.Errorf("a node with another audit key: exit %d\n%s", code, s.logs.String())
	}
}
