package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
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
// tlsRecheck compares their modification times and sizes with those of
// the files in use, and loads them when one differs. A new set that does
// not load (a key that does not match the certificate, a file half
// written) is logged once and the set in use is kept.
type tlsFiles struct {
	files config.APITLS
	clock clock.Clock
	log   *slog.Logger

	mu      sync.Mutex
	conf    *tls.Config
	stamp   []fileStamp // of the files conf was read from
	failed  []fileStamp // of the files that last failed to load
	checked time.Time
}

// fileStamp tells whether a file changed.
type fileStamp struct {
	mod  time.Time
	size int64
}

// newTLSFiles reads the files of t; an error names the key of the file at
// fault.
func newTLSFiles(t config.APITLS, c clock.Clock, log *slog.Logger) (*tlsFiles, error) {
	f := &tlsFiles{files: t, clock: c, log: log}
	stamp := f.stamps()
	conf, err := f.load()
	if err != nil {
		return nil, err
	}
	f.conf, f.stamp, f.checked = conf, stamp, c.Now()
	return f, nil
}

// paths lists the files read, in a fixed order.
func (f *tlsFiles) paths() []string {
	p := []string{f.files.CertFile, f.files.KeyFile}
	if f.files.ClientCAFile != "" {
		p = append(p, f.files.ClientCAFile)
	}
	return p
}

func (f *tlsFiles) stamps() []fileStamp {
	var out []fileStamp
	for _, p := range f.paths() {
		var s fileStamp
		if fi, err := os.Stat(p); err == nil {
			s = fileStamp{fi.ModTime(), fi.Size()}
		}
		out = append(out, s)
	}
	return out
}

func sameStamps(a, b []fileStamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].mod.Equal(b[i].mod) || a[i].size != b[i].size {
			return false
		}
	}
	return true
}

// load reads the files into a server configuration.
func (f *tlsFiles) load() (*tls.Config, error) {
	t := f.files
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
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
		b, err := os.ReadFile(t.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("api.tls.client_ca_file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
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
	stamp := f.stamps()
	if sameStamps(stamp, f.stamp) || sameStamps(stamp, f.failed) {
		return f.conf
	}
	conf, err := f.load()
	if err != nil {
		f.failed = stamp
		f.log.Error("the API's new TLS files do not load; serving with the certificate loaded before", "err", err)
		return f.conf
	}
	f.conf, f.stamp, f.failed = conf, stamp, nil
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
