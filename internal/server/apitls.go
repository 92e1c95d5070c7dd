package server

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/config"
)

// tlsRecheck is how often, at most, a handshake looks whether the API's
// certificate, key or client CA file changed.
const tlsRecheck = 5 * time.Second

// tlsFiles serves the API's TLS configuration from api.tls's files and
// reads them again when they change: a handshake at most every
// tlsRecheck reads the certificate, key and client CA files and compares
// them with those in use (contents, not modification times, which two
// writes in one clock tick share), and loads them when one differs. A
// new set that does not load (a key that does not match the certificate,
// a file half written) is logged once and the set in use is kept.
type tlsFiles struct {
	files config.APITLS
	clock clock.Clock
	log   *slog.Logger

	mu      sync.Mutex
	conf    *tls.Config
	inUse   [][]byte // the files conf was made of
	failed  [][]byte // the files that last failed to load
	checked time.Time
}

// newTLSFiles reads the files of t; an error names the key of the file at
// fault.
func newTLSFiles(t config.APITLS, c clock.Clock, log *slog.Logger) (*tlsFiles, error) {
	f := &tlsFiles{files: t, clock: c, log: log}
	b, err := f.read()
	if err != nil {
		return nil, err
	}
	conf, err := f.load(b)
	if err != nil {
		return nil, err
	}
	f.conf, f.inUse, f.checked = conf, b, c.Now()
	return f, nil
}

// read returns the contents of the certificate, key and client CA files.
func (f *tlsFiles) read() ([][]byte, error) {
	files := []struct{ key, path string }{{"cert_file", f.files.CertFile}, {"key_file", f.files.KeyFile}, {"client_ca_file", f.files.ClientCAFile}}
	out := make([][]byte, len(files))
	for i, file := range files {
		if file.path == "" {
			continue
		}
		b, err := os.ReadFile(file.path)
		if err != nil {
			return nil, fmt.Errorf("api.tls.%s: %v", file.key, err)
		}
		out[i] = b
	}
	return out, nil
}

func sameFiles(a, b [][]byte) bool {
	return len(a) == len(b) && slices.EqualFunc(a, b, bytes.Equal)
}

// load makes a server configuration of the files' contents.
func (f *tlsFiles) load(b [][]byte) (*tls.Config, error) {
	t := f.files
	cert, err := tls.X509KeyPair(b[0], b[1])
	if err != nil {
		return nil, fmt.Errorf("api.tls.cert_file %s, api.tls.key_file %s: %v", t.CertFile, t.KeyFile, err)
	}
	c := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		// HTTP/1.1 only: the API's timeouts are per connection.
		NextProtos: []string{"http/1.1"},
	}
	if t.ClientCAFile != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b[2]) {
			return nil, fmt.Errorf("api.tls.client_ca_file: %s holds no PEM certificate", t.ClientCAFile)
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
		if t.ClientAuth == config.ClientAuthVerifyIfGiven {
			c.ClientAuth = tls.VerifyClientCertIfGiven
		}
	}
	return c, nil
}

// current returns the configuration for a new handshake, reading the
// files again first when they changed.
func (f *tlsFiles) current() *tls.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now()
	if now.Sub(f.checked) < tlsRecheck {
		return f.conf
	}
	f.checked = now
	b, err := f.read()
	if err == nil && (sameFiles(b, f.inUse) || sameFiles(b, f.failed)) {
		return f.conf
	}
	var conf *tls.Config
	if err == nil {
		conf, err = f.load(b)
	}
	if err != nil {
		// A file that cannot be read (nil) is logged each time it is
		// looked at: every tlsRecheck at most.
		f.failed = b
		f.log.Error("the API's new TLS files do not load; serving with the certificate loaded before", "err", err)
		return f.conf
	}
	f.conf, f.inUse, f.failed = conf, b, nil
	f.log.Info("API TLS files reloaded", "cert_file", f.files.CertFile, "serial", conf.Certificates[0].Leaf.SerialNumber.String())
	return conf
}

// serverConfig is the listener's configuration: each handshake takes the
// current one.
func (f *tlsFiles) serverConfig() *tls.Config {
	base := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return f.current(), nil }
	return base
}
