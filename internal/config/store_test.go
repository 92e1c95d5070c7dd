package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key as PEM files in
// dir and returns their paths.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "etcd.test"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), DNSNames: []string{"etcd.test"},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	write(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})))
	return certFile, keyFile
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestStoreDefaultIsBolt(t *testing.T) {
	for _, y := range []string{"", "store: {}\n", "store:\n  etcd:\n"} {
		c, err := Parse("t.yaml", []byte(y))
		if err != nil {
			t.Fatalf("%q: %v", y, err)
		}
		if c.Store.Etcd != nil {
			t.Errorf("%q: store.etcd = %+v, want none (bbolt in data_dir)", y, c.Store.Etcd)
		}
	}
}

func TestStoreEtcd(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	pw := filepath.Join(dir, "pw")
	write(t, pw, "s3cret\n")
	c, err := Parse("t.yaml", []byte(`
store:
  etcd:
    endpoints: ["https://10.0.0.1:2379", "https://[fd00::2]:2379"]
    prefix: stratus/prod/
    tls: {ca_file: `+cert+`, cert_file: `+cert+`, key_file: `+key+`, server_name: etcd.test}
    username: stratus
    password_file: `+pw+`
    dial_timeout: 2s
`))
	if err != nil {
		t.Fatal(err)
	}
	e := c.Store.Etcd
	if e == nil || len(e.Endpoints) != 2 || e.Prefix != "stratus/prod/" || e.Username != "stratus" || e.DialTimeout != 2*time.Second {
		t.Fatalf("parsed %+v", e)
	}
	if p, err := e.Password(); err != nil || p != "s3cret" {
		t.Errorf("Password() = %q, %v", p, err)
	}
	tc, err := e.TLSConfig(configKey)
	if err != nil || tc.RootCAs == nil || len(tc.Certificates) != 1 || tc.ServerName != "etcd.test" {
		t.Errorf("TLSConfig() = %+v, %v", tc, err)
	}

	c, err = Parse("t.yaml", []byte("store:\n  etcd:\n    endpoints: [http://127.0.0.1:2379]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if e := c.Store.Etcd; e.Prefix != DefaultEtcdPrefix || e.DialTimeout != DefaultEtcdDialTimeout || e.TLS != nil {
		t.Errorf("defaults: %+v", e)
	}
}

func TestStoreEtcdErrors(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	_, otherKey := writeCert(t, t.TempDir())
	notPEM := filepath.Join(dir, "not.pem")
	write(t, notPEM, "hello\n")
	pw, empty := filepath.Join(dir, "pw"), filepath.Join(dir, "empty")
	write(t, pw, "x\n")
	write(t, empty, "")
	missing := filepath.Join(dir, "missing.pem")
	ep := "    endpoints: [http://127.0.0.1:2379]\n"
	tests := []struct{ name, yaml, want string }{
		{"unknown store key", "store:\n  bolt: {}\n", `unknown key "store.bolt"`},
		{"unknown etcd key", "store:\n  etcd:\n    endpoint: [http://127.0.0.1:2379]\n", `unknown key "store.etcd.endpoint"`},
		{"unknown tls key", "store:\n  etcd:\n" + ep + "    tls: {ca: x}\n", `unknown key "store.etcd.tls.ca"`},
		{"no endpoints", "store:\n  etcd: {prefix: a/}\n", "store.etcd.endpoints: give at least one URL"},
		{"endpoint without scheme", "store:\n  etcd:\n    endpoints: [127.0.0.1:2379]\n", `store.etcd.endpoints[0]: "127.0.0.1:2379" is not a URL`},
		{"endpoint other scheme", "store:\n  etcd:\n    endpoints: [unix:///run/etcd.sock]\n", `store.etcd.endpoints[0]: "unix:///run/etcd.sock" is not a URL`},
		{"endpoint without port", "store:\n  etcd:\n    endpoints: [http://127.0.0.1:2379, http://etcd]\n", `store.etcd.endpoints[1]: "http://etcd" is not a URL http(s)://host:port (it needs the port)`},
		{"endpoint bad port", "store:\n  etcd:\n    endpoints: [http://etcd:99999]\n", `store.etcd.endpoints[0]: "http://etcd:99999": port "99999"`},
		{"endpoint with path", "store:\n  etcd:\n    endpoints: [http://etcd:2379/v3]\n", `store.etcd.endpoints[0]: "http://etcd:2379/v3" is not a URL`},
		{"prefix without slash", "store:\n  etcd:\n" + ep + "    prefix: stratus\n", `store.etcd.prefix: "stratus" must end in "/"`},
		{"negative dial timeout", "store:\n  etcd:\n" + ep + "    dial_timeout: -1s\n", "store.etcd.dial_timeout: must not be negative"},
		{"username without password", "store:\n  etcd:\n" + ep + "    username: u\n", "store.etcd.password_file: name the file"},
		{"password without username", "store:\n  etcd:\n" + ep + "    password_file: " + pw + "\n", "store.etcd.password_file: set only with store.etcd.username"},
		{"missing password file", "store:\n  etcd:\n" + ep + "    username: u\n    password_file: " + missing + "\n", "store.etcd.password_file: open " + missing},
		{"empty password file", "store:\n  etcd:\n" + ep + "    username: u\n    password_file: " + empty + "\n", "store.etcd.password_file: " + empty + " is empty"},
		{"missing ca file", "store:\n  etcd:\n" + ep + "    tls: {ca_file: " + missing + "}\n", "store.etcd.tls.ca_file: open " + missing},
		{"ca file not PEM", "store:\n  etcd:\n" + ep + "    tls: {ca_file: " + notPEM + "}\n", "store.etcd.tls.ca_file: " + notPEM + " holds no PEM certificate"},
		{"cert without key", "store:\n  etcd:\n" + ep + "    tls: {cert_file: " + cert + "}\n", "store.etcd.tls.key_file: set with store.etcd.tls.cert_file"},
		{"key without cert", "store:\n  etcd:\n" + ep + "    tls: {key_file: " + key + "}\n", "store.etcd.tls.cert_file: set with store.etcd.tls.key_file"},
		{"missing cert file", "store:\n  etcd:\n" + ep + "    tls: {cert_file: " + missing + ", key_file: " + key + "}\n", "store.etcd.tls.cert_file, store.etcd.tls.key_file: open " + missing},
		{"key of another cert", "store:\n  etcd:\n" + ep + "    tls: {cert_file: " + cert + ", key_file: " + otherKey + "}\n", "store.etcd.tls.cert_file, store.etcd.tls.key_file: tls: private key does not match public key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
