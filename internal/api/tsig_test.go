package api

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func TestTSIGKeys(t *testing.T) {
	e := newAPI(t)
	r := e.do(t, "POST", "/v1/tsig-keys", e.admin, `{"name":"Xfr.Example.","algorithm":"hmac-sha512"}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created apiv1.CreatedTSIGKey
	r.decode(t, &created)
	secret, err := base64.StdEncoding.DecodeString(created.Secret)
	if created.Name != "xfr.example." || created.Algorithm != "hmac-sha512" || err != nil || len(secret) != 64 {
		t.Fatalf("created %+v (secret %d bytes, %v)", created, len(secret), err)
	}
	stored, err := e.svc.TSIGKeys.TSIGKey(context.Background(), "xfr.example")
	if err != nil || string(stored.Secret) != string(secret) {
		t.Fatalf("stored %v, %v", stored, err)
	}

	given := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123"))
	if r := e.do(t, "POST", "/v1/tsig-keys", e.admin, `{"name":"peer","secret":"`+given+`"}`); r.status != 201 || !strings.Contains(string(r.body), given) {
		t.Fatalf("create with a secret: %d %s", r.status, r.body)
	}
	if r := e.do(t, "POST", "/v1/tsig-keys", e.admin, `{"name":"peer."}`); r.status != 409 {
		t.Errorf("create an existing key: %d %s", r.status, r.body)
	}

	// Neither list nor get shows a secret.
	for _, path := range []string{"/v1/tsig-keys", "/v1/tsig-keys/xfr.example", "/v1/tsig-keys/peer."} {
		r := e.do(t, "GET", path, e.admin, "")
		if r.status != 200 || strings.Contains(string(r.body), "secret") || strings.Contains(string(r.body), created.Secret) || strings.Contains(string(r.body), given) {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	var list apiv1.TSIGKeyList
	e.do(t, "GET", "/v1/tsig-keys", e.admin, "").decode(t, &list)
	if len(list.Keys) != 2 || list.Keys[0].Name != "xfr.example." || list.Keys[1].Name != "peer." {
		t.Errorf("list: %+v", list)
	}

	if r := e.do(t, "DELETE", "/v1/tsig-keys/peer", e.admin, ""); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := e.do(t, "DELETE", "/v1/tsig-keys/peer", e.admin, ""); r.status != 404 {
		t.Errorf("delete again: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/tsig-keys/peer", e.admin, ""); r.status != 404 {
		t.Errorf("get a deleted key: %d %s", r.status, r.body)
	}

	// A token without tsig:admin sees nothing.
	tok, _, err := e.svc.Tokens.CreateToken(context.Background(), "zones", []string{"zones:write"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(t, "GET", "/v1/tsig-keys", tok, ""); r.status != 403 {
		t.Errorf("list with zones:write: %d", r.status)
	}
}

func TestCreateTSIGKeyBadInput(t *testing.T) {
	e := newAPI(t)
	for _, tc := range []struct{ body, field, msg string }{
		{`{"name":""}`, "name", ""},
		{`{"name":"a..b"}`, "name", ""},
		{`{"name":"k","algorithm":"hmac-md5"}`, "algorithm", `unknown algorithm "hmac-md5"`},
		{`{"name":"k","secret":"***"}`, "secret", "not base64"},
		{`{"name":"k","secret":"c2hvcnQ="}`, "secret", "5 bytes; want 16 to 512"},
	} {
		r := e.do(t, "POST", "/v1/tsig-keys", e.admin, tc.body)
		if ae := r.apiError(t); r.status != 400 || ae.Field != tc.field || !strings.Contains(ae.Message, tc.msg) {
			t.Errorf("%s: %d %s, want 400 on %s mentioning %q", tc.body, r.status, r.body, tc.field, tc.msg)
		}
	}
	var list apiv1.TSIGKeyList
	e.do(t, "GET", "/v1/tsig-keys", e.admin, "").decode(t, &list)
	if len(list.Keys) != 0 {
		t.Errorf("a refused key was created: %+v", list)
	}
}
