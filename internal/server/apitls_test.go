package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/testutil"
)

// writePair writes a certificate and key issued by ca to dir and returns
// the certificate's serial.
func writePair(t *testing.T, ca *testutil.CA, dir, name string) *big.Int {
	t.Helper()
	pair, certPEM, keyPEM := ca.Issue(t, name)
	// Written beside and renamed in, as certificate tools do.
	testutil.WriteFile(t, dir, "cert.pem.new", certPEM)
	testutil.WriteFile(t, dir, "key.pem.new", keyPEM)
	for _, f := range []string{"cert.pem", "key.pem"} {
		if err := os.Rename(filepath.Join(dir, f+".new"), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	return pair.Leaf.SerialNumber
}

// serveTLS accepts connections on a loopback listener with conf and
// completes their handshakes until the test ends.
func serveTLS(t *testing.T, conf *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", conf)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// serialSeen dials addr and returns the serial of the certificate the
// server shows.
func serialSeen(t *testing.T, addr string, ca *testutil.CA) *big.Int {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

// TestTLSFilesReload: a new certificate and key written over the files
// are served to the next connection once the recheck interval has passed,
// without a restart; a pair that does not load is logged and the old one
// is kept.
func TestTLSFilesReload(t *testing.T) {
	ca := testutil.NewCA(t, "api ca")
	dir := t.TempDir()
	first := writePair(t, ca, dir, "first")
	fi, err := os.Stat(filepath.Join(dir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	firstMod := fi.ModTime()
	fake := clock.NewFake(time.Now())
	logs := &testutil.LogBuffer{}
	files, err := newTLSFiles(config.APITLS{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}, fake, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, files.serverConfig())
	if got := serialSeen(t, addr, ca); got.Cmp(first) != 0 {
		t.Fatalf("serial %v, want %v", got, first)
	}

	second := writePair(t, ca, dir, "second")
	// Written in the clock tick of the first: the same modification
	// times.
	for _, f := range []string{"cert.pem", "key.pem"} {
		if err := os.Chtimes(filepath.Join(dir, f), time.Time{}, firstMod); err != nil {
			t.Fatal(err)
		}
	}
	if got := serialSeen(t, addr, ca); got.Cmp(first) != 0 {
		t.Fatalf("read again before the recheck interval: %v", got)
	}
	fake.Step(tlsRecheck)
	if got := serialSeen(t, addr, ca); got.Cmp(second) != 0 {
		t.Fatalf("after rotation: serial %v, want %v", got, second)
	}
	if !strings.Contains(logs.String(), "API TLS files reloaded") {
		t.Errorf("no reload line:\n%s", logs)
	}

	// A key that does not match the certificate.
	_, _, otherKey := ca.Issue(t, "other")
	testutil.WriteFile(t, dir, "key.pem", otherKey)
	for range 2 {
		fake.Step(tlsRecheck)
		if got := serialSeen(t, addr, ca); got.Cmp(second) != 0 {
			t.Fatalf("broken pair: serial %v, want the old %v", got, second)
		}
	}
	if n := strings.Count(logs.String(), "the API's new TLS files do not load"); n != 1 {
		t.Errorf("%d error lines for one broken pair, want 1:\n%s", n, logs)
	}
	third := writePair(t, ca, dir, "third")
	fake.Step(tlsRecheck)
	if got := serialSeen(t, addr, ca); got.Cmp(third) != 0 {
		t.Fatalf("repaired: serial %v, want %v", got, third)
	}
}

// TestTLSFilesErrors: files that do not load at start are errors naming
// the key.
func TestTLSFilesErrors(t *testing.T) {
	ca := testutil.NewCA(t, "api ca")
	dir := t.TempDir()
	writePair(t, ca, dir, "x")
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	notPEM := testutil.WriteFile(t, dir, "not.pem", []byte("hello"))
	tests := []struct {
		tls  config.APITLS
		want string
	}{
		{config.APITLS{CertFile: filepath.Join(dir, "missing.pem"), KeyFile: key}, "api.tls.cert_file"},
		{config.APITLS{CertFile: cert, KeyFile: notPEM}, "api.tls.key_file " + notPEM},
		{config.APITLS{CertFile: cert, KeyFile: key, ClientCAFile: notPEM}, "api.tls.client_ca_file: " + notPEM + " holds no PEM certificate"},
		{config.APITLS{CertFile: cert, KeyFile: key, ClientCAFile: filepath.Join(dir, "none")}, "api.tls.client_ca_file: open"},
	}
	for _, tc := range tests {
		if _, err := newTLSFiles(tc.tls, clock.Real(), slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.tls, err, tc.want)
		}
	}
}

// TestCheckAPIListen: plain HTTP is refused on an address that is not
// loopback unless allowed explicitly; the error names the address and
// the fixes.
func TestCheckAPIListen(t *testing.T) {
	tests := []struct {
		api config.API
		ok  bool
	}{
		{config.API{Listen: "127.0.0.1:8053"}, true},
		{config.API{Listen: "[::1]:8053"}, true},
		{config.API{Listen: "0.0.0.0:8053"}, false},
		{config.API{Listen: "[::]:8053"}, false},
		{config.API{Listen: "192.0.2.1:8053"}, false},
		{config.API{Listen: "0.0.0.0:8053", AllowInsecureHTTP: true}, true},
		{config.API{Listen: "0.0.0.0:8053", TLS: &config.APITLS{CertFile: "c", KeyFile: "k"}}, true},
	}
	for _, tc := range tests {
		err := checkAPIListen(tc.api)
		if tc.ok != (err == nil) {
			t.Errorf("%+v: %v", tc.api, err)
		}
		if err != nil && (!strings.Contains(err.Error(), tc.api.Listen) || !strings.Contains(err.Error(), "api.tls") || !strings.Contains(err.Error(), "--api-insecure-http")) {
			t.Errorf("error does not name the address and the fixes: %v", err)
		}
	}
	// Start refuses before it opens anything.
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.DNS.Listen = []string{"127.0.0.1:0"}
	cfg.API.Listen = "0.0.0.0:0"
	n := New(cfg, Options{}, slog.New(slog.DiscardHandler))
	if err := n.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "0.0.0.0:0 is not a loopback address") {
		t.Fatalf("start: %v", err)
	}
	if _, err := os.Stat(cfg.DataDir); !os.IsNotExist(err) {
		t.Errorf("the data directory was made: %v", err)
	}
}

// TestServerErrorLogLimited: the API server's error log (a failed
// handshake is one line) writes at most serverErrorBurst lines a period
// and then one line counting those it left out.
func TestServerErrorLogLimited(t *testing.T) {
	fake := clock.NewFake(time.Now())
	logs := &testutil.LogBuffer{}
	w := &serverErrorLog{log: slog.New(slog.NewTextHandler(logs, nil)), clock: fake}
	for i := range serverErrorBurst + 5 {
		fmt.Fprintf(w, "http: TLS handshake error from 192.0.2.1:%d: bad certificate\n", i)
	}
	if n := strings.Count(logs.String(), "TLS handshake error"); n != serverErrorBurst {
		t.Fatalf("%d lines written, want %d:\n%s", n, serverErrorBurst, logs)
	}
	fake.Step(serverErrorEvery)
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(logs.String(), "left_out=5") {
		if time.Now().After(deadline) {
			t.Fatalf("no line counting the lines left out:\n%s", logs)
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Fprintf(w, "http: TLS handshake error from 192.0.2.1:99: bad certificate\n")
	if !strings.Contains(logs.String(), "192.0.2.1:99") {
		t.Errorf("a new period's line was left out:\n%s", logs)
	}
}
