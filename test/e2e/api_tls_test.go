package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/testutil"
)

// TestAPITLSClientCertificates: a server with api.tls and a client CA
// serves the CLI over https when it presents its certificate (given in
// the client section of a config file, or as flags, or in the
// environment), refuses it at the handshake without one, and serves a
// rotated certificate to new connections without a restart.
func TestAPITLSClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca := testutil.NewCA(t, "stratus api ca")
	caFile := testutil.WriteFile(t, dir, "ca.pem", ca.PEM)
	_, srvCert, srvKey := ca.Issue(t, "api server")
	certFile := testutil.WriteFile(t, dir, "api.pem", srvCert)
	keyFile := testutil.WriteFile(t, dir, "api.key", srvKey)
	_, cliCert, cliKey := ca.Issue(t, "deployer")
	cliCertFile := testutil.WriteFile(t, dir, "client.pem", cliCert)
	cliKeyFile := testutil.WriteFile(t, dir, "client.key", cliKey)

	dataDir := t.TempDir()
	serveCfg := testutil.WriteFile(t, dir, "serve.yaml", fmt.Appendf(nil, "api:\n  tls:\n    cert_file: %s\n    key_file: %s\n    client_ca_file: %s\n    client_auth: require\n", certFile, keyFile, caFile))
	s := launch(t, binary, dataDir, "--config", serveCfg)
	url := "https://" + s.apiAddr
	clientCfg := testutil.WriteFile(t, dir, "client.yaml", fmt.Appendf(nil, "client:\n  server: %s\n  token_file: %s\n  ca_file: %s\n  cert_file: %s\n  key_file: %s\n",
		url, filepath.Join(dataDir, "admin.token"), caFile, cliCertFile, cliKeyFile))
	waitUntil(t, "the API answers over https", time.Minute, func() (bool, string) {
		select {
		case <-s.exited:
			t.Fatalf("stratus exited:\n%s", s.logs.String())
		default:
		}
		out, errOut, code := runCLI(t, []string{"--config", clientCfg, "zone", "list"}, nil)
		return code == 0, out + errOut
	})

	// The client section of a config file.
	if out, errOut, code := runCLI(t, []string{"--config", clientCfg, "zone", "create", "tls.test.", "--ns", "ns1.example.net."}, nil); code != 0 {
		t.Fatalf("zone create over https: exit %d\n%s%s", code, out, errOut)
	}
	// Flags.
	out, errOut, code := runCLI(t, []string{"--server", url, "--data-dir", dataDir, "--ca-file", caFile, "--cert-file", cliCertFile, "--key-file", cliKeyFile, "zone", "list"}, nil)
	if code != 0 || !strings.Contains(out, "tls.test.") {
		t.Fatalf("flags: exit %d\n%s%s", code, out, errOut)
	}
	// The environment.
	env := []string{"STRATUS_SERVER=" + url, "STRATUS_DATA_DIR=" + dataDir, "STRATUS_CA_FILE=" + caFile, "STRATUS_CERT_FILE=" + cliCertFile, "STRATUS_KEY_FILE=" + cliKeyFile}
	if out, errOut, code := runCLIEnv(t, env, "zone", "list"); code != 0 || !strings.Contains(out, "tls.test.") {
		t.Fatalf("environment: exit %d\n%s%s", code, out, errOut)
	}
	// Without a client certificate: refused at the handshake.
	out, errOut, code = runCLI(t, []string{"--server", url, "--data-dir", dataDir, "--ca-file", caFile, "zone", "list"}, nil)
	if code != 6 || !strings.Contains(errOut, "cannot reach the Stratus API at "+url) || !strings.Contains(errOut, "certificate") {
		t.Fatalf("without a client certificate: exit %d\n%s%s", code, out, errOut)
	}
	// Without the CA: the server's certificate is not trusted.
	out, errOut, code = runCLI(t, []string{"--server", url, "--data-dir", dataDir, "--cert-file", cliCertFile, "--key-file", cliKeyFile, "zone", "list"}, nil)
	if code != 6 || !strings.Contains(errOut, "certificate signed by unknown authority") {
		t.Fatalf("without the CA: exit %d\n%s%s", code, out, errOut)
	}
	// Plain HTTP on the TLS port gets no API answer.
	if out, errOut, code := runCLI(t, []string{"--server", "http://" + s.apiAddr, "--data-dir", dataDir, "zone", "list"}, nil); code == 0 {
		t.Fatalf("plain HTTP served:\n%s%s", out, errOut)
	}
	if !strings.Contains(s.logs.String(), `client_cert="CN=deployer"`) {
		t.Errorf("no request line names the client certificate:\n%s", s.logs.String())
	}

	// Rotation: new files, written beside and renamed in.
	pair, newCert, newKey := ca.Issue(t, "api server, renewed")
	testutil.WriteFile(t, dir, "api.pem.new", newCert)
	testutil.WriteFile(t, dir, "api.key.new", newKey)
	for _, f := range []string{"api.pem", "api.key"} {
		if err := os.Rename(filepath.Join(dir, f+".new"), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	clientPair, err := tls.X509KeyPair(cliCert, cliKey)
	if err != nil {
		t.Fatal(err)
	}
	var seen *big.Int
	waitUntil(t, "new connections get the new certificate", time.Minute, func() (bool, string) {
		c, err := tls.Dial("tcp", s.apiAddr, &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{clientPair}})
		if err != nil {
			return false, err.Error()
		}
		defer c.Close()
		seen = c.ConnectionState().PeerCertificates[0].SerialNumber
		return seen.Cmp(pair.Leaf.SerialNumber) == 0, fmt.Sprintf("serial %v, want %v", seen, pair.Leaf.SerialNumber)
	})
	if out, errOut, code := runCLI(t, []string{"--config", clientCfg, "zone", "list"}, nil); code != 0 {
		t.Fatalf("after rotation: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(s.logs.String(), "API TLS files reloaded") {
		t.Errorf("no reload line:\n%s", s.logs.String())
	}
}

// TestAPIRefusesPlainHTTPBeyondLoopback: serve refuses plain HTTP on an
// address that is not loopback, naming it and the fixes, before it
// listens anywhere.
func TestAPIRefusesPlainHTTPBeyondLoopback(t *testing.T) {
	addr := fmt.Sprintf("0.0.0.0:%d", freePort(t))
	// A serve that does start is stopped at once.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--data-dir", t.TempDir(), "--dns-listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--api-listen", addr)
	cmd.Env = raceEnv()
	var errOut syncBuffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for !strings.Contains(errOut.String(), "api listening") {
		select {
		case err := <-done:
			if err == nil || !strings.Contains(errOut.String(), "api.listen: "+addr+" is not a loopback address") || !strings.Contains(errOut.String(), "--api-insecure-http") {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	cmd.Process.Kill()
	<-done
	t.Fatalf("serve listened on %s over plain HTTP:\n%s", addr, errOut.String())
}

// runCLIEnv runs the client with env added to the environment.
func runCLIEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(raceEnv(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}
