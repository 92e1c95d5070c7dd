package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/testutil"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, as PEM files.
type testPKI struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	ca := testutil.NewCA(t, "test CA")
	p := testPKI{ca: testutil.WriteFile(t, dir, "ca.pem", ca.PEM)}
	_, cert, key := ca.Issue(t, "server")
	p.serverCert, p.serverKey = testutil.WriteFile(t, dir, "server.pem", cert), testutil.WriteFile(t, dir, "server-key.pem", key)
	_, cert, key = ca.Issue(t, "client")
	p.clientCert, p.clientKey = testutil.WriteFile(t, dir, "client.pem", cert), testutil.WriteFile(t, dir, "client-key.pem", key)
	return p
}

// TestEtcdTLS: stratus serve and store copy reach an etcd that serves
// clients over TLS and requires client certificates, through the config's
// store.etcd.tls and the copy's --etcd-* flags.
func TestEtcdTLS(t *testing.T) {
	pki := newTestPKI(t)
	cert, err := tls.LoadX509KeyPair(pki.clientCert, pki.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	b, _ := os.ReadFile(pki.ca)
	roots.AppendCertsFromPEM(b)
	ep := startEtcdWith(t, &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}},
		[]string{"--cert-file", pki.serverCert, "--key-file", pki.serverKey, "--client-cert-auth", "--trusted-ca-file", pki.ca})
	host := strings.TrimPrefix(ep, "https://")

	cfg := filepath.Join(t.TempDir(), "stratus.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("store:\n  etcd:\n    endpoints: [%s]\n    prefix: tls/\n"+
		"    tls: {ca_file: %s, cert_file: %s, key_file: %s}\n", ep, pki.ca, pki.clientCert, pki.clientKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	s := startServer(t, dataDir, "--config", cfg, "--demo")
	if got := digDemo(t, s); got != "192.0.2.10" {
		t.Fatalf("www.demo.stratus.test A = %q, want 192.0.2.10", got)
	}
	s.stop()

	back := filepath.Join(t.TempDir(), "back.db")
	tlsFlags := []string{"--etcd-ca-file", pki.ca, "--etcd-cert-file", pki.clientCert, "--etcd-key-file", pki.clientKey}
	out, errOut, code := runCLI(t, append([]string{"store", "copy", "--from", "etcd://" + host + "/tls/", "--to", "bolt:" + back}, tlsFlags...), nil)
	if code != 0 || !strings.Contains(out, "verified: ") {
		t.Fatalf("copy from etcd over TLS: exit %d\n%s%s", code, out, errOut)
	}
	// Without the client certificate etcd refuses the connection.
	_, errOut, code = runCLI(t, []string{"store", "copy", "--from", "etcd://" + host + "/tls/", "--to", "bolt:" + filepath.Join(t.TempDir(), "x.db"),
		"--etcd-ca-file", pki.ca, "--etcd-dial-timeout", "1s"}, nil)
	if code == 0 || !strings.Contains(errOut, "cannot reach etcd at "+ep) {
		t.Fatalf("copy without a client certificate: exit %d\n%s", code, errOut)
	}
}

// TestEtcdAuth: stratus serve authenticates to etcd with
// store.etcd.username and password_file; a wrong password stops the
// start with an error naming the endpoint.
func TestEtcdAuth(t *testing.T) {
	ep := startEtcd(t)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, step := range []func() error{
		func() error { _, err := cli.RoleAdd(ctx, "root"); return err },
		func() error { _, err := cli.UserAdd(ctx, "root", "s3cret"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	cli.Close()

	dir := t.TempDir()
	config := func(password string) string {
		pw := filepath.Join(dir, password)
		cfg := filepath.Join(dir, password+".yaml")
		if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("store:\n  etcd:\n    endpoints: [%s]\n    prefix: auth/\n"+
			"    username: root\n    password_file: %s\n    dial_timeout: 2s\n", ep, pw)), 0o600); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	s := startServer(t, t.TempDir(), "--config", config("s3cret"), "--demo")
	if got := digDemo(t, s); got != "192.0.2.10" {
		t.Fatalf("www.demo.stratus.test A = %q, want 192.0.2.10", got)
	}
	p := freePort(t)
	_, errOut, code := runCLI(t, []string{"serve", "--config", config("wrong"), "--data-dir", t.TempDir(),
		"--dns-listen", fmt.Sprintf("127.0.0.1:%d", p), "--api-listen", fmt.Sprintf("127.0.0.1:%d", p)}, nil)
	if code != 1 || !strings.Contains(errOut, "cannot reach etcd at "+ep+": ") || !strings.Contains(errOut, "authentication failed") {
		t.Fatalf("wrong password: exit %d\n%s", code, errOut)
	}
}
