package querylog

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/dnsserver"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// logServer starts a DNS server for example.com with one UDP reader,
// whose tap writes to l, a query log opened with opts at a file of its own,
// sampling at rate (0: every query). stop shuts the server down and
// closes the log, after which the file holds every line.
func logServer(t *testing.T, opts Options, rate float64) (s *dnsserver.Server, l *Log, path string, stop func()) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "queries.log")
	opts.Output = path
	l, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	s, err = dnsserver.New(dnsserver.Config{Listen: []string{"127.0.0.1:0"}, UDPReaders: 1,
		Tap: dnsserver.TapConfig{Sink: l, Log: true, SampleRate: rate}}, &src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s, l, path, func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
