package e2e

import (
	"encoding/json"
	"slices"
	"sync"
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

// TestClusterLastTokenAdminsDeleteEachOther: the last two tokens that can
// administer tokens delete each other at once through two nodes; etcd
// makes one of the two transactions see the other, so one delete wins,
// the other is refused (409, or 401 when its token is gone by the time
// it is checked), and one such token is left.
func TestClusterLastTokenAdminsDeleteEachOther(t *testing.T) {
	c := startStratusCluster(t, startEtcdCluster(t), 2, "stratus/tokens/")
	a, b := c.nodes[0], c.nodes[1]
	type created struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	var admins []created
	for _, name := range []string{"one", "two"} {
		var ct created
		if err := json.Unmarshal([]byte(c.mustAPI(a, 201, "POST", "/v1/tokens", `{"name":"`+name+`","scopes":["*"]}`)), &ct); err != nil {
			t.Fatal(err)
		}
		admins = append(admins, ct)
	}
	var list struct {
		Tokens []struct{ ID, Name string } `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(c.mustAPI(a, 200, "GET", "/v1/tokens", "")), &list); err != nil {
		t.Fatal(err)
	}
	for _, tk := range list.Tokens {
		if tk.Name == "admin" {
			if st, body, err := apiDo(admins[0].Token, a.apiAddr, "DELETE", "/v1/tokens/"+tk.ID, ""); err != nil || st != 204 {
				t.Fatalf("deleting the first admin token: %d %v %s", st, err, body)
			}
		}
	}
	var wg sync.WaitGroup
	status := make([]int, 2)
	bodies := make([]string, 2)
	start := make(chan struct{})
	for i, node := range []*server{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st, body, err := apiDo(admins[i].Token, node.apiAddr, "DELETE", "/v1/tokens/"+admins[1-i].ID, "")
			if err != nil {
				body = err.Error()
			}
			status[i], bodies[i] = st, body
		}()
	}
	close(start)
	wg.Wait()
	sorted := slices.Clone(status)
	slices.Sort(sorted)
	if sorted[0] != 204 || (sorted[1] != 409 && sorted[1] != 401) {
		t.Fatalf("statuses %v %v; want one 204 and one 409 or 401", status, bodies)
	}
	left := admins[0]
	if status[0] != 204 {
		left = admins[1]
	}
	// The one left still administers tokens, through either node.
	waitUntil(t, "the token left lists tokens at both nodes", time.Minute, func() (bool, string) {
		for _, node := range []*server{a, b} {
			if st, body, err := apiDo(left.Token, node.apiAddr, "GET", "/v1/tokens", ""); err != nil || st != 200 {
				return false, body
			}
		}
		return true, ""
	})
}
