package main

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/server"
	"github.com/stratusdns/stratus/pkg/client"
)

// loadConfig reads the config file named by --config or STRATUS_CONFIG; for
// client commands (userFile) also ~/.config/stratus/config.yaml when it
// exists. Without any, it returns the defaults.
func (a *app) loadConfig(userFile bool) (config.Config, error) {
	path := cmp.Or(a.configPath, os.Getenv("STRATUS_CONFIG"))
	if path == "" && userFile {
		if dir, err := os.UserConfigDir(); err == nil {
			p := filepath.Join(dir, "stratus", "config.yaml")
			if _, err := os.Stat(p); err == nil {
				path = p
			}
		}
	}
	if path == "" {
		return config.Default(), nil
	}
	c, err := config.Load(path)
	if err != nil {
		return c, usagef("%v", err)
	}
	return c, nil
}

// resolvedDataDir applies --data-dir and STRATUS_DATA_DIR over the config.
func (a *app) resolvedDataDir(c config.Config) string {
	return cmp.Or(a.dataDir, os.Getenv("STRATUS_DATA_DIR"), c.DataDir, config.DefaultDataDir)
}

// client builds an API client. The server and the token are looked up in
// flags, then the environment, then the config file, then the defaults.
func (a *app) client() (*apiClient, error) {
	c, err := a.loadConfig(true)
	if err != nil {
		return nil, err
	}
	srv := cmp.Or(a.server, os.Getenv("STRATUS_SERVER"), c.Client.Server, c.API.Scheme()+"://"+c.API.Listen)
	if !strings.Contains(srv, "://") {
		srv = "http://" + srv
	}
	token, err := a.resolveToken(c)
	if err != nil {
		return nil, err
	}
	tc, err := a.clientTLS(c)
	if err != nil {
		return nil, err
	}
	if tc == nil {
		return client.New(srv, token), nil
	}
	return client.New(srv, token, client.WithTLS(tc)), nil
}

// clientTLS builds the TLS configuration for an https server from
// --ca-file, --cert-file and --key-file, then STRATUS_CA_FILE,
// STRATUS_CERT_FILE and STRATUS_KEY_FILE, then the client section; nil
// when none is set (the system roots, no client certificate).
func (a *app) clientTLS(c config.Config) (*tls.Config, error) {
	ca := cmp.Or(a.caFile, os.Getenv("STRATUS_CA_FILE"), c.Client.CAFile)
	cert := cmp.Or(a.certFile, os.Getenv("STRATUS_CERT_FILE"), c.Client.CertFile)
	key := cmp.Or(a.keyFile, os.Getenv("STRATUS_KEY_FILE"), c.Client.KeyFile)
	if ca == "" && cert == "" && key == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		b, err := os.ReadFile(ca)
		if err != nil {
			return nil, usagef("CA file (--ca-file, STRATUS_CA_FILE, client.ca_file): %v", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(b) {
			return nil, usagef("CA file (--ca-file, STRATUS_CA_FILE, client.ca_file): %s holds no PEM certificate", ca)
		}
	}
	switch {
	case cert != "" && key != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, usagef("client certificate %s, key %s: %v", cert, key, err)
		}
		tc.Certificates = []tls.Certificate{pair}
	case cert != "" || key != "":
		return nil, usagef("a client certificate needs both a certificate and a key file (--cert-file and --key-file, STRATUS_CERT_FILE and STRATUS_KEY_FILE, or client.cert_file and client.key_file)")
	}
	return tc, nil
}

// resolveToken finds the API token. Each level (flags, environment, config file)
// is looked at as a whole before the next: a token, then a token file,
// then the admin token in a data directory.
func (a *app) resolveToken(c config.Config) (string, error) {
	adminToken := func(dir string) string {
		if dir == "" {
			return ""
		}
		return filepath.Join(dir, server.AdminTokenFile)
	}
	levels := []struct{ token, file string }{
		{a.token, cmp.Or(a.tokenFile, adminToken(a.dataDir))},
		{os.Getenv("STRATUS_TOKEN"), cmp.Or(os.Getenv("STRATUS_TOKEN_FILE"), adminToken(os.Getenv("STRATUS_DATA_DIR")))},
		{c.Client.Token, cmp.Or(c.Client.TokenFile, adminToken(c.DataDir))},
		{"", adminToken(config.DefaultDataDir)},
	}
	for _, l := range levels {
		if l.token != "" {
			return l.token, nil
		}
		if l.file == "" {
			continue
		}
		b, err := os.ReadFile(l.file)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", &authError{fmt.Sprintf("no API token: %s does not exist; pass --token-file or set STRATUS_TOKEN (the server writes its admin token to <data-dir>/%s at first start)", l.file, server.AdminTokenFile)}
		case err != nil:
			return "", &authError{fmt.Sprintf("reading the API token: %v", err)}
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", &authError{"no API token"}
}

// apiClient is the API client the commands use.
type apiClient = client.Client
