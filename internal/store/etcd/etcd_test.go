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

	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/storetest"
	"github.com/stratusdns/stratus/internal/testutil"
)

// server is one etcd started for the package's tests on loopback.
var server struct {
	once     sync.Once
	endpoint string
	err      error
	cmd      *exec.Cmd
	dir      string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server.cmd != nil {
		_ = server.cmd.Process.Kill()
		_ = server.cmd.Wait()
		_ = os.RemoveAll(server.dir)
	}
	os.Exit(code)
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

// etcdEndpoint starts etcd once (skipping when it is not installed) and
// returns its client URL.
func etcdEndpoint(t testing.TB) string {
	t.Helper()
	bin := testutil.Tool(t, "etcd")
	server.once.Do(func() {
		dir, err := os.MkdirTemp("", "stratus-etcd-")
		if err != nil {
			server.err = err
			return
		}
		server.dir = dir
		client := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		cmd := exec.Command(bin,
			"--name", "test",
			"--data-dir", filepath.Join(dir, "data"),
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", "test="+peer,
			"--logger", "zap", "--log-outputs", filepath.Join(dir, "etcd.log"))
		if err := cmd.Start(); err != nil {
			server.err = err
			return
		}
		server.cmd = cmd
		server.endpoint = client
		// Wait until it serves (state, not a log line).
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for {
			s, err := Open(ctx, Options{Endpoints: []string{client}, Prefix: "probe/"})
			if err == nil {
				_ = s.Close()
				return
			}
			if ctx.Err() != nil {
				server.err = fmt.Errorf("etcd did not come up: %v", err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	if server.err != nil {
		t.Fatalf("start etcd: %v", server.err)
	}
	return server.endpoint
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
