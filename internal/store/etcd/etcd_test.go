package etcd

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/storetest"
	"github.com/stratusdns/stratus/internal/testutil"
)

// etcdProc is one etcd started by the tests on loopback.
type etcdProc struct {
	cmd *exec.Cmd
	dir string
}

func (p *etcdProc) stop() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	_ = os.RemoveAll(p.dir)
}

// server is the etcd shared by most of the package's tests.
var server struct {
	once     sync.Once
	endpoint string
	err      error
	proc     *etcdProc
}

// TestMain fails the package's tests when any goroutine (of the etcd
// client, of a Watch) outlives them, then stops the shared etcd.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if server.proc != nil {
			server.proc.stop()
		}
		os.Exit(code)
	}))
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startEtcd starts an etcd on loopback with extra flags; scheme is "http"
// or "https" for the client URL. It waits until ready(client URL) succeeds.
func startEtcd(t testing.TB, scheme string, ready func(endpoint string) error, args ...string) (*etcdProc, string, error) {
	t.Helper()
	bin := testutil.Tool(t, "etcd")
	dir, err := os.MkdirTemp("", "stratus-etcd-")
	if err != nil {
		return nil, "", err
	}
	client := fmt.Sprintf("%s://127.0.0.1:%d", scheme, freePort(t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, append([]string{
		"--name", "test",
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "test=" + peer,
		"--logger", "zap", "--log-outputs", filepath.Join(dir, "etcd.log")}, args...)...)
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	p := &etcdProc{cmd: cmd, dir: dir}
	// Wait until it serves (state, not a log line).
	deadline := time.Now().Add(time.Minute)
	for {
		err := ready(client)
		if err == nil {
			return p, client, nil
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, "", fmt.Errorf("etcd did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyWith opens a store on endpoint with opts' credentials.
func readyWith(opts Options) func(string) error {
	return func(endpoint string) error {
		o := opts
		o.Endpoints, o.Prefix, o.DialTimeout = []string{endpoint}, "probe/", time.Second
		s, err := Open(context.Background(), o)
		if err == nil {
			_ = s.Close()
		}
		return err
	}
}

// etcdEndpoint starts the shared etcd once (skipping when it is not
// installed) and returns its client URL.
func etcdEndpoint(t testing.TB) string {
	t.Helper()
	testutil.Tool(t, "etcd")
	server.once.Do(func() {
		server.proc, server.endpoint, server.err = startEtcd(t, "http", readyWith(Options{}))
	})
	if server.err != nil {
		t.Fatalf("start etcd: %v", server.err)
	}
	return server.endpoint
}

// ownEtcd starts an etcd for one test, stopped when the test ends.
func ownEtcd(t *testing.T, scheme string, ready func(string) error, args ...string) string {
	t.Helper()
	p, ep, err := startEtcd(t, scheme, ready, args...)
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	t.Cleanup(p.stop)
	return ep
}

// TestConformance runs the store suite against a real etcd; each store dir
// is its own prefix, so reopening a dir reopens the same store.
func TestConformance(t *testing.T) {
	ep := etcdEndpoint(t)
	storetest.Run(t, storetest.Factory{
		Open: func(t *testing.T, dir string, history int) store.Store {
			s, err := Open(context.Background(), Options{Endpoints: []string{ep}, Prefix: dir + "/", HistoryRevisions: history})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Concurrent: true,
	})
}

func TestOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Prefix: "p/"}, "no endpoints"},
		{Options{Endpoints: []string{"http://127.0.0.1:1"}}, `prefix ""`},
		{Options{Endpoints: []string{"http://127.0.0.1:1"}, Prefix: "p"}, `prefix "p" must`},
		{Options{Endpoints: []string{"http://127.0.0.1:1"}, Prefix: "p/", HistoryRevisions: -1}, "negative"},
		{Options{Endpoints: []string{"http://127.0.0.1:1"}, Prefix: "p/", Password: "x"}, "password without username"},
	} {
		_, err := Open(context.Background(), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v) = %v, want an error containing %q", tc.opts, err, tc.want)
		}
	}
}
