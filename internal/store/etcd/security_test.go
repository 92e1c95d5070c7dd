package etcd

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/testutil"
)

// useStore checks that s commits, reads and watches.
func useStore(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	rev := put(t, s, "k", "v")
	bc, ec := watchChan(t, s, rev-1)
	select {
	case b := <-bc:
		if b.Revision != rev {
			t.Errorf("watch: batch %d, want %d", b.Revision, rev)
		}
	case err := <-ec:
		t.Errorf("watch: %v", err)
	}
	if err := s.View(ctx, func(tx store.ReadTx) error {
		if v, _, err := tx.Get("k"); string(v) != "v" {
			t.Errorf("k = %q (%v), want v", v, err)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

// TestTLS runs a store against an etcd that requires client certificates,
// and checks that a wrong server CA or a missing client certificate fails
// with an error naming the certificate problem.
func TestTLS(t *testing.T) {
	ca, other := testutil.NewCA(t, "stratus test CA"), testutil.NewCA(t, "other CA")
	dir := t.TempDir()
	_, srvCert, srvKey := ca.Issue(t, "etcd")
	client, _, _ := ca.Issue(t, "stratus")
	good := &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{client}}
	ep := ownEtcd(t, "https", readyWith(Options{TLS: good}),
		"--cert-file", testutil.WriteFile(t, dir, "server.pem", srvCert),
		"--key-file", testutil.WriteFile(t, dir, "server-key.pem", srvKey),
		"--trusted-ca-file", testutil.WriteFile(t, dir, "ca.pem", ca.PEM),
		"--client-cert-auth")

	s, err := Open(context.Background(), Options{Endpoints: []string{ep}, Prefix: "tls/", TLS: good})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	useStore(t, s)

	strangerCert, _, _ := other.Issue(t, "stranger")
	for _, tc := range []struct {
		name string
		tls  *tls.Config
		want string
	}{
		{"server CA unknown", &tls.Config{RootCAs: other.Pool, Certificates: []tls.Certificate{client}}, "certificate signed by unknown authority"},
		{"no client certificate", &tls.Config{RootCAs: ca.Pool}, "refused the client certificate"},
		{"client certificate of another CA", &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{strangerCert}}, "refused the client certificate"},
		{"no TLS", nil, "no TLS configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(context.Background(), Options{Endpoints: []string{ep}, Prefix: "tls/", TLS: tc.tls, DialTimeout: 2 * time.Second})
			if err == nil {
				s.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, want an error containing %q", err, tc.want)

			}
		})
	}
}

// TestAuth runs a store as an etcd user whose role may only touch the
// store's prefix, and checks that a wrong password, a missing username and
// a prefix outside the role fail with errors naming what failed.
func TestAuth(t *testing.T) {
	ep := ownEtcd(t, "http", readyWith(Options{}))
	ctx := context.Background()
	root, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, Logger: zap.NewNop(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { _, err := root.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := root.RoleAdd(ctx, "stratus-tenant"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "stratus-tenant", "tenant/", clientv3.GetPrefixRangeEnd("tenant/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := root.UserAdd(ctx, "stratus", "s3cret"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "stratus", "stratus-tenant"); return err },
		func() error { _, err := root.RoleAdd(ctx, "stratus-reader"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "stratus-reader", "tenant/", clientv3.GetPrefixRangeEnd("tenant/"), clientv3.PermissionType(clientv3.PermRead))
			return err
		},
		func() error { _, err := root.UserAdd(ctx, "reader", "r"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "reader", "stratus-reader"); return err },
		func() error { _, err := root.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			root.Close()
			t.Fatal(err)
		}
	}
	root.Close()

	s, err := Open(ctx, Options{Endpoints: []string{ep}, Prefix: "tenant/", Username: "stratus", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	useStore(t, s)

	// A read-only role opens the store, and its Update names the user
	// and the prefix.
	ro, err := Open(ctx, Options{Endpoints: []string{ep}, Prefix: "tenant/", Username: "reader", Password: "r"})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("w")) }); err == nil || !strings.Contains(err.Error(), `user "reader" may not write under the prefix "tenant/"`) {
		t.Errorf("read-only Update = %v, want an error naming the user and the prefix", err)
	}

	for _, tc := range []struct {
		name           string
		prefix         string
		user, password string
		want           string
	}{
		{"wrong password", "tenant/", "stratus", "wrong", `user "stratus"`},
		{"unknown user", "tenant/", "nobody", "x", `user "nobody"`},
		{"no username", "tenant/", "", "", "username"},
		{"prefix outside the role", "other/", "stratus", "s3cret", `"other/"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(ctx, Options{Endpoints: []string{ep}, Prefix: tc.prefix, Username: tc.user, Password: tc.password, DialTimeout: 2 * time.Second})
			if err == nil {
				s.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, want an error containing %q", err, tc.want)

			}
		})
	}
}
