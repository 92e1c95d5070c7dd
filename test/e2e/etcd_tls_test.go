package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notBefore, notAfter := time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	writePEM := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	issue := func(name string, serial int64, usage x509.ExtKeyUsage) (certFile, keyFile string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"etcd.test"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return writePEM(name+".pem", "CERTIFICATE", der), writePEM(name+"-key.pem", "EC PRIVATE KEY", kb)
	}
	p := testPKI{ca: writePEM("ca.pem", "CERTIFICATE", caDER)}
	p.serverCert, p.serverKey = issue("server", 2, x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = issue("client", 3, x509.ExtKeyUsageClientAuth)
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
