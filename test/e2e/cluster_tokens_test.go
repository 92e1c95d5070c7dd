package e2e

import (
	"encoding/json"
	"testing"
	"time"
)

// TestClusterTokenAcrossNodes: a token created through one node works at
// once through another (which may not have seen it yet: it asks etcd),
// and once deleted through the first it stops working at the other as
// soon as that node has seen the deletion.
func TestClusterTokenAcrossNodes(t *testing.T) {
	c := startStratusCluster(t, startEtcdCluster(t), 2, "stratus/tokens/")
	a, b := c.nodes[0], c.nodes[1]
	var created struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(c.mustAPI(a, 201, "POST", "/v1/tokens", `{"name":"reader","scopes":["zones:read"]}`)), &created); err != nil {
		t.Fatal(err)
	}
	if st, body, err := apiDo(created.Token, b.apiAddr, "GET", "/v1/zones", ""); err != nil || st != 200 {
		t.Fatalf("the new token at B, at once: %d %v %s", st, err, body)
	}
	c.mustAPI(a, 204, "DELETE", "/v1/tokens/"+created.ID, "")
	if st, body, err := apiDo(created.Token, a.apiAddr, "GET", "/v1/zones", ""); err != nil || st != 401 {
		t.Fatalf("the deleted token at A: %d %v %s", st, err, body)
	}
	waitUntil(t, "B refuses the deleted token", time.Minute, func() (bool, string) {
		st, body, err := apiDo(created.Token, b.apiAddr, "GET", "/v1/zones", "")
		return err == nil && st == 401, body
	})
	// The admin token, which B has seen, still works there.
	c.mustAPI(b, 200, "GET", "/v1/zones", "")
}
