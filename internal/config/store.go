package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Store chooses the store engine. Without Etcd, the store is the bbolt
// file in data_dir.
type Store struct {
	Etcd *Etcd `yaml:"etcd"`
}

// Etcd is a store kept in an etcd v3 cluster under a key prefix.
type Etcd struct {
	// Endpoints are etcd client URLs, http(s)://host:port.
	Endpoints []string `yaml:"endpoints"`
	// Prefix is the key prefix of this Stratus cluster (default
	// "stratus/"); it ends in "/".
	Prefix string `yaml:"prefix"`
	// TLS, when set, is used for https endpoints.
	TLS *EtcdTLS `yaml:"tls"`
	// Username authenticates to etcd with the password in PasswordFile.
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	// DialTimeout bounds reaching etcd at start (default 5s).
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// RequestTimeout bounds each request to etcd once running (default
	// 5s): past it an API call answers 503 and the node reports the
	// store unreachable, while DNS answers from the last snapshot.
	RequestTimeout time.Duration `yaml:"request_timeout"`
}

// EtcdTLS names the files of a TLS connection to etcd.
type EtcdTLS struct {
	// CAFile verifies etcd's certificate (default: the system roots).
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate, both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName is the name checked in etcd's certificate (default: the
	// endpoint's host).
	ServerName string `yaml:"server_name"`
}

// Defaults of store.etcd.
const (
	DefaultEtcdPrefix         = "stratus/"
	DefaultEtcdDialTimeout    = 5 * time.Second
	DefaultEtcdRequestTimeout = 5 * time.Second
)

// withDefaults fills the unset fields of e.
func (e *Etcd) withDefaults() {
	if e.Prefix == "" {
		e.Prefix = DefaultEtcdPrefix
	}
	if e.DialTimeout == 0 {
		e.DialTimeout = DefaultEtcdDialTimeout
	}
	if e.RequestTimeout == 0 {
		e.RequestTimeout = DefaultEtcdRequestTimeout
	}
}

// Check checks every field of e, reading the TLS and password files; name
// turns a key of the store.etcd section ("tls.ca_file") into the name
// the error gives it (a config key or a flag).
func (e *Etcd) Check(name func(key string) string) error {
	if len(e.Endpoints) == 0 {
		return fmt.Errorf("%s: give at least one URL such as http://127.0.0.1:2379", name("endpoints"))
	}
	for i, ep := range e.Endpoints {
		if err := CheckEtcdEndpoint(ep); err != nil {
			return fmt.Errorf("%s[%d]: %v", name("endpoints"), i, err)
		}
	}
	if !strings.HasSuffix(e.Prefix, "/") {
		return fmt.Errorf("%s: %q must end in \"/\"", name("prefix"), e.Prefix)
	}
	if e.DialTimeout < 0 {
		return fmt.Errorf("%s: must not be negative", name("dial_timeout"))
	}
	if e.RequestTimeout < 0 {
		return fmt.Errorf("%s: must not be negative", name("request_timeout"))
	}
	if e.PasswordFile != "" && e.Username == "" {
		return fmt.Errorf("%s: set only with %s", name("password_file"), name("username"))
	}
	if e.Username != "" {
		if e.PasswordFile == "" {
			return fmt.Errorf("%s: name the file holding %s's password", name("password_file"), name("username"))
		}
		if _, err := e.Password(); err != nil {
			return fmt.Errorf("%s: %v", name("password_file"), err)
		}
	}
	if e.TLS != nil {
		if _, err := e.TLSConfig(name); err != nil {
			return err
		}
	}
	return nil
}

// CheckEtcdEndpoint checks that ep is an etcd client URL,
// http(s)://host:port and nothing more.
func CheckEtcdEndpoint(ep string) error {
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not a URL http(s)://host:port", ep)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not a URL http(s)://host:port (it needs the port)", ep)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port %q is not 1..65535", ep, port)
	}
	return nil
}

// Password reads the password file: its first line.
func (e *Etcd) Password() (string, error) {
	b, err := os.ReadFile(e.PasswordFile)
	if err != nil {
		return "", err
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("%s is empty", e.PasswordFile)
	}
	return pw, nil
}

// TLSConfig loads the TLS files (nil when e.TLS is nil); errors name the
// key through name, as in Check.
func (e *Etcd) TLSConfig(name func(key string) string) (*tls.Config, error) {
	t := e.TLS
	if t == nil {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name("tls.ca_file"), err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: %s holds no PEM certificate", name("tls.ca_file"), t.CAFile)
		}
		c.RootCAs = pool
	}
	switch {
	case t.CertFile != "" && t.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s, %s: %v", name("tls.cert_file"), name("tls.key_file"), err)
		}
		c.Certificates = []tls.Certificate{cert}
	case t.CertFile != "":
		return nil, fmt.Errorf("%s: set with %s", name("tls.key_file"), name("tls.cert_file"))
	case t.KeyFile != "":
		return nil, fmt.Errorf("%s: set with %s", name("tls.cert_file"), name("tls.key_file"))
	}
	return c, nil
}

// configKey names a store.etcd key as the config file does.
func configKey(key string) string { return "store.etcd." + key }
