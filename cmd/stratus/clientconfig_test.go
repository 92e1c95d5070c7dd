package main

import (
	"context"
	"crypto/tls"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/api"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/testutil"
)

// TestClientTLSFiles: the CLI's TLS files are checked before any request,
// with errors naming where they come from; an https server is trusted
// with the CA given, and not without it.
func TestClientTLSFiles(t *testing.T) {
	dir := t.TempDir()
	ca := testutil.NewCA(t, "ca")
	caFile := testutil.WriteFile(t, dir, "ca.pem", ca.PEM)
	pair, certPEM, keyPEM := ca.Issue(t, "server")
	cert := testutil.WriteFile(t, dir, "c.pem", certPEM)
	key := testutil.WriteFile(t, dir, "k.pem", keyPEM)
	junk := testutil.WriteFile(t, dir, "junk.pem", []byte("junk"))

	svc, _ := controltest.New(t, control.Options{})
	tok, _, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(api.New(api.PlaneControl(svc), api.Options{}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--cert-file", cert}, 2, "needs both a certificate and a key file"},
		{[]string{"--key-file", key}, 2, "needs both a certificate and a key file"},
		{[]string{"--ca-file", junk}, 2, "(--ca-file, STRATUS_CA_FILE, client.ca_file): " + junk + " holds no PEM certificate"},
		{[]string{"--ca-file", dir + "/none.pem"}, 2, "no such file"},
		{[]string{"--cert-file", cert, "--key-file", junk}, 2, "client certificate " + cert + ", key " + junk},
		{nil, 6, "certificate signed by unknown authority"},
		{[]string{"--ca-file", caFile}, 0, ""},
		{[]string{"--ca-file", caFile, "--cert-file", cert, "--key-file", key}, 0, ""},
	}
	for _, tc := range tests {
		_, errOut, code := runIn(t, append(append([]string{"--server", srv.URL, "--token", tok}, tc.args...), "zone", "list")...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.want, errOut)
		}
	}
}
