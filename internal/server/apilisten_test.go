package server

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/testutil"
)

// startAPINode starts a node on loopback with the api section api and
// returns it with its admin token and its log.
func startAPINode(t *testing.T, api config.API) (*Node, string, *testutil.LogBuffer) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DNS.Listen = []string{"127.0.0.1:0"}
	api.Listen = "127.0.0.1:0"
	cfg.API = api
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &testutil.LogBuffer{}
	n := New(cfg, Options{}, NewLogger(logs, config.Log{Level: "debug"}))
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown(t.Context()) })
	tok, err := os.ReadFile(filepath.Join(cfg.DataDir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return n, strings.TrimSpace(string(tok)), logs
}

// TestAPIClientCertificates: with api.tls.client_ca_file, a client
// without a certificate, or with one the CA did not sign, is refused at
// the handshake; one with a good certificate is served, and the request's
// log line names its subject.
func TestAPIClientCertificates(t *testing.T) {
	ca, other := testutil.NewCA(t, "api ca"), testutil.NewCA(t, "another ca")
	dir := t.TempDir()
	writePair(t, ca, dir, "server")
	clientCA := testutil.WriteFile(t, dir, "clients.pem", ca.PEM)
	good, _, _ := ca.Issue(t, "deployer")
	stranger, _, _ := other.Issue(t, "stranger")
	for _, mode := range []string{"", config.ClientAuthRequire, config.ClientAuthVerifyIfGiven} {
		t.Run("client_auth="+mode, func(t *testing.T) {
			n, tok, logs := startAPINode(t, config.API{TLS: &config.APITLS{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem"), ClientCAFile: clientCA, ClientAuth: mode}})
			get := func(certs ...tls.Certificate) (int, error) {
				conf := &tls.Config{RootCAs: ca.Pool}
				if len(certs) > 0 {
					// Sent whatever CAs the server names as acceptable.
					conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &certs[0], nil }
				}
				c := &http.Client{Transport: &http.Transport{TLSClientConfig: conf}}
				defer c.CloseIdleConnections()
				req, _ := http.NewRequest(http.MethodGet, "https://"+n.APIAddr().String()+"/v1/status", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := c.Do(req)
				if err != nil {
					return 0, err
				}
				res.Body.Close()
				return res.StatusCode, nil
			}
			if code, err := get(good); code != http.StatusOK {
				t.Fatalf("good certificate: %d %v", code, err)
			}
			if !strings.Contains(logs.String(), `client_cert="CN=deployer"`) {
				t.Errorf("no client_cert in the log:\n%s", logs)
			}
			if code, err := get(stranger); err == nil {
				t.Errorf("a certificate of another CA was served: %d", code)
			}
			code, err := get()
			if mode == config.ClientAuthVerifyIfGiven {
				if code != http.StatusOK {
					t.Errorf("verify_if_given without a certificate: %d %v", code, err)
				}
			} else if err == nil {
				t.Errorf("served without a client certificate: %d", code)
			}
			// Plain HTTP on the TLS port is not served.
			res, err := http.Get("http://" + n.APIAddr().String() + "/v1/status")
			if err == nil {
				res.Body.Close()
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("plain HTTP answered %d", res.StatusCode)
				}
			}
		})
	}
}

// TestAPITricklingClientCutOff: a client that sends its body a byte at a
// time has its connection closed once api.read_timeout has passed, while
// a zone file upload may take api.zonefile_timeout.
func TestAPITricklingClientCutOff(t *testing.T) {
	n, tok, _ := startAPINode(t, config.API{ReadTimeout: 300 * time.Millisecond, ZoneFileTimeout: time.Minute})
	addr := n.APIAddr().String()

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "PATCH /v1/zones/example.com./rrsets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{", tok)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	// The bound is far above the timeout: it only keeps a broken server
	// from hanging the test.
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err = io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the trickling connection was still open after 30s")
	}

	// A zone file upload trickled over longer than read_timeout goes
	// through.
	zc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer zc.Close()
	zone := "$ORIGIN slow.test.\n@ 3600 IN SOA ns1 host 1 3600 600 86400 300\n@ 3600 IN NS ns1.example.net.\nwww 300 IN A 192.0.2.1\n"
	fmt.Fprintf(zc, "PUT /v1/zones/slow.test./zonefile HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: text/dns\r\nContent-Length: %d\r\n\r\n", tok, len(zone))
	for i := 0; i < len(zone); i += len(zone) / 8 {
		time.Sleep(100 * time.Millisecond)
		zc.Write([]byte(zone[i:min(len(zone), i+len(zone)/8)]))
	}
	zc.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(zc), nil)
	if err != nil {
		t.Fatalf("slow zone file upload: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("slow zone file upload: %d %s", res.StatusCode, body)
	}
}

// TestAPIZoneFileTimeoutNeedsToken: a zone file upload without a token
// (or with one that is wrong) does not get api.zonefile_timeout: its
// connection is closed once api.read_timeout has passed, however slowly
// its body arrives.
func TestAPIZoneFileTimeoutNeedsToken(t *testing.T) {
	n, _, _ := startAPINode(t, config.API{ReadTimeout: 300 * time.Millisecond, ZoneFileTimeout: 10 * time.Minute})
	for _, auth := range []string{"", "Authorization: Bearer stratus_000000000000_wrong\r\n"} {
		c, err := net.Dial("tcp", n.APIAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "PUT /v1/zones/x./zonefile HTTP/1.1\r\nHost: x\r\n%sContent-Type: text/dns\r\nContent-Length: 100000\r\n\r\n$ORIGIN x.\n", auth)
		// The bound is far above read_timeout and far below
		// zonefile_timeout: it only keeps a broken server from hanging
		// the test.
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		_, err = io.Copy(io.Discard, c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%q: the stalled upload's connection was still open after 60s", auth)
		}
	}
}

// TestAPIRequestIDHeader: the API echoes a request id over a real
// listener, and the api request line names it and the remote address.
func TestAPIRequestIDHeader(t *testing.T) {
	n, tok, logs := startAPINode(t, config.API{})
	req, _ := http.NewRequest(http.MethodPost, "http://"+n.APIAddr().String()+"/v1/zones", strings.NewReader(`{"name":"rid.test."}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Request-Id", "ci-run-7")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("X-Request-Id") != "ci-run-7" {
		t.Errorf("X-Request-Id %q", res.Header.Get("X-Request-Id"))
	}
	if !strings.Contains(logs.String(), "remote=127.0.0.1:") || !strings.Contains(logs.String(), "request_id=ci-run-7") {
		t.Errorf("log:\n%s", logs)
	}
}

// TestAPITrustedProxies: with api.trusted_proxies naming loopback, a
// request's log line names the client its X-Forwarded-For gives.
func TestAPITrustedProxies(t *testing.T) {
	n, tok, logs := startAPINode(t, config.API{TrustedProxies: []string{"127.0.0.0/8"}})
	req, _ := http.NewRequest(http.MethodPost, "http://"+n.APIAddr().String()+"/v1/zones", strings.NewReader(`{"name":"xff.test."}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if s := logs.String(); !strings.Contains(s, "remote=203.0.113.7 ") || !strings.Contains(s, "proxy=127.0.0.1:") {
		t.Errorf("log:\n%s", s)
	}
}
