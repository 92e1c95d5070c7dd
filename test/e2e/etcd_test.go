package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
	"github.com/stratusdns/stratus/internal/store/etcd"
	"github.com/stratusdns/stratus/internal/testutil"
)

// startEtcd starts a one-member etcd on free loopback ports in a
// temporary directory, waits until it serves, and stops it when the test
// ends. It returns the client URL.
func startEtcd(t *testing.T) string {
	t.Helper()
	return startEtcdWith(t, nil, nil)
}

// startEtcdWith is startEtcd with clients served over TLS when tc is set
// (tlsArgs then names etcd's certificate files).
func startEtcdWith(t *testing.T, tc *tls.Config, tlsArgs []string) string {
	t.Helper()
	bin := testutil.Tool(t, "etcd")
	dir := t.TempDir()
	scheme := "http"
	if tc != nil {
		scheme = "https"
	}
	client := fmt.Sprintf("%s://127.0.0.1:%d", scheme, freePort(t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, append([]string{"--name", "e2e", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "e2e=" + peer, "--logger", "zap", "--log-outputs", filepath.Join(dir, "etcd.log")}, tlsArgs...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "etcd.log"))
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			t.Logf("etcd log (last lines):\n%s", strings.Join(lines[max(0, len(lines)-20):], "\n"))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := etcd.Open(ctx, etcd.Options{Endpoints: []string{client}, Prefix: "probe/", DialTimeout: 2 * time.Second, TLS: tc})
		cancel()
		if err == nil {
			s.Close()
			return client
		}
		select {
		case <-exited:
			t.Fatalf("etcd exited during start: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd did not serve within 60s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// etcdConfig writes a config file keeping the store under prefix in the
// etcd at endpoint.
func etcdConfig(t *testing.T, endpoint, prefix string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stratus.yaml")
	cfg := fmt.Sprintf("store:\n  etcd:\n    endpoints: [%s]\n    prefix: %s\n    dial_timeout: 2s\n", endpoint, prefix)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// stop stops the server and waits until it has exited.
func (s *server) stop() {
	s.signal(syscall.SIGTERM)
	<-s.exited
}

// digDemo asks s for www.demo.stratus.test A and returns the answer lines.
func digDemo(t *testing.T, s *server) string {
	t.Helper()
	out, _, code := digTool(t, s).run(t, "+short", "www.demo.stratus.test", "A")
	if code != 0 {
		t.Fatalf("dig: exit %d: %s", code, out)
	}
	return strings.TrimSpace(out)
}

// TestEtcdServeKeepsZonesAcrossRestart runs stratus serve --demo on etcd,
// restarts it and finds the demo zone served from etcd, with no bbolt
// file in the data directory.
func TestEtcdServeKeepsZonesAcrossRestart(t *testing.T) {
	cfg := etcdConfig(t, startEtcd(t), "stratus/e2e/")
	dataDir := t.TempDir()
	s := startServer(t, dataDir, "--config", cfg, "--demo")
	if got := digDemo(t, s); got != "192.0.2.10" {
		t.Fatalf("www.demo.stratus.test A = %q, want 192.0.2.10", got)
	}
	s.stop()
	s = startServer(t, dataDir, "--config", cfg)
	if got := digDemo(t, s); got != "192.0.2.10" {
		t.Fatalf("after restart: www.demo.stratus.test A = %q, want 192.0.2.10", got)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "stratus.db")); !os.IsNotExist(err) {
		t.Errorf("stratus.db in the data directory: %v; the store should be in etcd alone", err)
	}
}

// TestEtcdUnreachableAtStart: serve exits with an error naming the
// endpoint when nothing answers there.
func TestEtcdUnreachableAtStart(t *testing.T) {
	ep := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	cfg := etcdConfig(t, ep, "stratus/")
	p := freePort(t)
	_, errOut, code := runCLI(t, []string{"serve", "--config", cfg, "--data-dir", t.TempDir(),
		"--dns-listen", fmt.Sprintf("127.0.0.1:%d", p), "--api-listen", fmt.Sprintf("127.0.0.1:%d", p)}, nil)
	if code != 1 || !strings.Contains(errOut, "cannot reach etcd at "+ep+": ") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, errOut, "cannot reach etcd at "+ep+": ")
	}
}

// dump reads every key and value of st.
func dump(t *testing.T, st store.Store) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := st.View(context.Background(), func(tx store.ReadTx) error {
		return tx.Scan("", "", func(k string, v []byte) error { m[k] = string(v); return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func dumpBolt(t *testing.T, path string) map[string]string {
	t.Helper()
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return dump(t, st)
}

func dumpEtcd(t *testing.T, endpoint, prefix string) map[string]string {
	t.Helper()
	st, err := etcd.Open(context.Background(), etcd.Options{Endpoints: []string{endpoint}, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return dump(t, st)
}

func sameDump(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d keys, want %d", what, len(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: key %q = %q (present %v), want %q", what, k, g, ok, v)
		}
	}
}

// TestStoreCopyBoltEtcdBolt copies a store with zones, a service and
// tokens to etcd and back: every key and value arrives unchanged, and a
// server on the etcd copy serves the zone.
func TestStoreCopyBoltEtcdBolt(t *testing.T) {
	ep := startEtcd(t)
	host := strings.TrimPrefix(ep, "http://")
	dataDir := t.TempDir()
	s := startServer(t, dataDir, "--demo")
	s.mustCLI("token", "create", "ci", "--scope", "zones:read")
	svc := steerWrite(t, "svc.yaml", fmt.Sprintf("name: svc.demo.stratus.test\nttl: 5\npolicy: failover\npools:\n"+
		"  - {name: dub, region: eu-west, priority: 1, check: {type: http, port: %d, interval: 1s}}\n", freePort(t)))
	s.mustCLI("service", "create", "-f", svc)
	s.mustCLI("zone", "create", "copy.example.", "--ns", "ns1.copy.example.")
	s.mustCLI("record", "add", "copy.example.", "www", "A", "192.0.2.1")

	db := filepath.Join(dataDir, "stratus.db")
	// The bbolt file is refused while the server holds it.
	_, errOut, code := runCLI(t, []string{"store", "copy", "--from", "bolt:" + db, "--to", "etcd://" + host + "/copy/"}, nil)
	if code == 0 || !strings.Contains(errOut, "is in use by a running server: stop it first") {
		t.Fatalf("copy from a held file: exit %d\n%s", code, errOut)
	}
	if n := len(dumpEtcd(t, ep, "copy/")); n != 0 {
		t.Fatalf("a refused copy wrote %d keys", n)
	}
	s.stop()
	orig := dumpBolt(t, db)
	for _, prefix := range []string{"zones/", "services/", "tokens/"} {
		n := 0
		for k := range orig {
			if strings.HasPrefix(k, prefix) {
				n++
			}
		}
		if n == 0 {
			t.Fatalf("the store to copy has no key under %s", prefix)
		}
	}

	out, errOut, code := runCLI(t, []string{"store", "copy", "--from", "bolt:" + db, "--to", "etcd://" + host + "/copy/"}, nil)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("copied %d keys", len(orig))) || !strings.Contains(out, fmt.Sprintf("verified: %d keys on both sides, sha256 ", len(orig))) {
		t.Fatalf("copy to etcd: exit %d\n%s%s", code, out, errOut)
	}
	sameDump(t, "etcd copy", dumpEtcd(t, ep, "copy/"), orig)

	back := filepath.Join(t.TempDir(), "back.db")
	out, errOut, code = runCLI(t, []string{"store", "copy", "--from", "etcd://" + host + "/copy/", "--to", "bolt:" + back}, nil)
	if code != 0 {
		t.Fatalf("copy back: exit %d\n%s%s", code, out, errOut)
	}
	sameDump(t, "bolt copy of the etcd copy", dumpBolt(t, back), orig)

	// A server on the etcd copy serves the zone, with the same admin token.
	s = startServer(t, dataDir, "--config", etcdConfig(t, ep, "copy/"))
	if got := digDemo(t, s); got != "192.0.2.10" {
		t.Fatalf("www.demo.stratus.test A = %q on the etcd copy", got)
	}
	s.mustCLI("service", "get", "svc.demo.stratus.test")
}

// TestStoreCopyErrors: bad input gets an error naming it, and nothing is
// written.
func TestStoreCopyErrors(t *testing.T) {
	ep := startEtcd(t)
	host := strings.TrimPrefix(ep, "http://")
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	st, err := bolt.Open(src, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(context.Background(), func(tx store.Tx) error { return tx.Put("k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	st.Close()
	// A non-empty destination.
	if out, errOut, code := runCLI(t, []string{"store", "copy", "--from", "bolt:" + src, "--to", "etcd://" + host + "/full/"}, nil); code != 0 {
		t.Fatalf("first copy: exit %d\n%s%s", code, out, errOut)
	}
	other := filepath.Join(dir, "other.db")
	st, err = bolt.Open(other, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(context.Background(), func(tx store.Tx) error { return tx.Put("x", []byte("y")) }); err != nil {
		t.Fatal(err)
	}
	st.Close()
	missing := filepath.Join(dir, "missing.db")
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		want     string
		notExist string
	}{
		{"no scheme", []string{"--from", src, "--to", "etcd://" + host + "/p/"}, 2, `--from "` + src + `": name a store as bolt:PATH or etcd://`, ""},
		{"bad etcd host", []string{"--from", "bolt:" + src, "--to", "etcd://127.0.0.1/p/"}, 2, `--to "etcd://127.0.0.1/p/": the URL's hosts[0]: "http://127.0.0.1" is not a URL http(s)://host:port (it needs the port)`, ""},
		{"prefix without slash", []string{"--from", "bolt:" + src, "--to", "etcd://" + host + "/p"}, 2, `the URL's path: "p" must end in "/"`, ""},
		{"missing source file", []string{"--from", "bolt:" + missing, "--to", "etcd://" + host + "/new/"}, 2, "bolt:" + missing + ": stat " + missing + ": no such file or directory", missing},
		{"missing CA file", []string{"--from", "bolt:" + src, "--to", "etcd://" + host + "/new/", "--etcd-ca-file", missing}, 2, "--etcd-ca-file: open " + missing, ""},
		{"non-empty etcd destination", []string{"--from", "bolt:" + other, "--to", "etcd://" + host + "/full/"}, 4, "etcd://" + host + "/full/ holds 1 keys: the destination must be empty (--force deletes its keys first)", ""},
		{"non-empty bolt destination", []string{"--from", "etcd://" + host + "/full/", "--to", "bolt:" + other}, 4, "bolt:" + other + " holds 1 keys: the destination must be empty", ""},
		{"same store", []string{"--from", "bolt:" + src, "--to", "bolt:" + src}, 2, "--from and --to are the same store", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, append([]string{"store", "copy"}, tc.args...), nil)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q\n%s", code, errOut, tc.code, tc.want, out)
			}
			if tc.notExist != "" {
				if _, err := os.Stat(tc.notExist); !os.IsNotExist(err) {
					t.Errorf("%s exists after the refused copy", tc.notExist)
				}
			}
		})
	}
	sameDump(t, "refused etcd destination", dumpEtcd(t, ep, "full/"), map[string]string{"k": "v"})
	sameDump(t, "refused bolt destination", dumpBolt(t, other), map[string]string{"x": "y"})
	if n := len(dumpEtcd(t, ep, "new/")) + len(dumpEtcd(t, ep, "p/")); n != 0 {
		t.Errorf("refused copies wrote %d keys", n)
	}
	// --force replaces the destination's keys.
	if out, errOut, code := runCLI(t, []string{"store", "copy", "--from", "etcd://" + host + "/full/", "--to", "bolt:" + other, "--force"}, nil); code != 0 {
		t.Fatalf("--force: exit %d\n%s%s", code, out, errOut)
	}
	sameDump(t, "forced bolt destination", dumpBolt(t, other), map[string]string{"k": "v"})
}

// TestStoreCopyLargerThanOneEtcdTxn copies more keys and bytes than one
// etcd transaction takes by default (128 ops, 1.5 MiB) and back.
func TestStoreCopyLargerThanOneEtcdTxn(t *testing.T) {
	ep := startEtcd(t)
	host := strings.TrimPrefix(ep, "http://")
	src := filepath.Join(t.TempDir(), "src.db")
	st, err := bolt.Open(src, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	if _, err := st.Update(context.Background(), func(tx store.Tx) error {
		for i := range 1000 {
			k, v := fmt.Sprintf("k/%04d", i), strings.Repeat(string(rune('a'+i%26)), 3000)
			want[k] = v
			if err := tx.Put(k, []byte(v)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, errOut, code := runCLI(t, []string{"store", "copy", "--from", "bolt:" + src, "--to", "etcd://" + host + "/big/"}, nil)
	if code != 0 || !strings.Contains(out, "copied 1000 keys") {
		t.Fatalf("copy: exit %d\n%s%s", code, out, errOut)
	}
	sameDump(t, "etcd copy", dumpEtcd(t, ep, "big/"), want)
	back := filepath.Join(t.TempDir(), "back.db")
	if out, errOut, code := runCLI(t, []string{"store", "copy", "--from", "etcd://" + host + "/big/", "--to", "bolt:" + back}, nil); code != 0 {
		t.Fatalf("copy back: exit %d\n%s%s", code, out, errOut)
	}
	sameDump(t, "bolt copy", dumpBolt(t, back), want)

	// --force empties an etcd destination whose keys are each in a
	// directory of their own: every delete there also moves its
	// directory's deletion marker, within the same transaction limits.
	many := filepath.Join(t.TempDir(), "many.db")
	st, err = bolt.Open(many, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(context.Background(), func(tx store.Tx) error {
		for i := range 300 {
			if err := tx.Put(fmt.Sprintf("z/%03d/k", i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if out, errOut, code := runCLI(t, []string{"store", "copy", "--from", "bolt:" + many, "--to", "etcd://" + host + "/many/"}, nil); code != 0 {
		t.Fatalf("copy of 300 directories: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, []string{"store", "copy", "--from", "bolt:" + src, "--to", "etcd://" + host + "/many/", "--force"}, nil)
	if code != 0 || !strings.Contains(out, "deleted 300 keys") {
		t.Fatalf("--force over 300 directories: exit %d\n%s%s", code, out, errOut)
	}
	sameDump(t, "forced etcd destination", dumpEtcd(t, ep, "many/"), want)
}
