package dnstap

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	dt "github.com/dnstap/golang-dnstap"
)

// logCount counts the records logged at each level.
type logCount struct {
	mu    sync.Mutex
	warns []string
	infos []string
}

func (l *logCount) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCount) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Level >= slog.LevelWarn {
		l.warns = append(l.warns, r.Message)
	} else {
		l.infos = append(l.infos, r.Message)
	}
	return nil
}
func (l *logCount) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCount) WithGroup(string) slog.Handler      { return l }

func (l *logCount) counts() (warns, infos int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.warns), len(l.infos)
}

// stepClock hands out the waits asked of it and fires each when told.
type stepClock struct {
	waits chan time.Duration
	fire  chan time.Time
}

func (c *stepClock) after(d time.Duration) <-chan time.Time {
	c.waits <- d
	return c.fire
}

// TestReconnectBackoff: with no collector, the wait between attempts
// doubles from the retry interval up to the ceiling, and the log hears
// once that the collector cannot be reached, not at every attempt; a
// collector that comes resets the wait and is logged as connected.
func TestReconnectBackoff(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "tap.sock")
	clock := &stepClock{waits: make(chan time.Duration, 64), fire: make(chan time.Time)}
	logs := &logCount{}
	o := New(Options{Network: "unix", Addr: sock, RetryInterval: time.Second, MaxRetry: 30 * time.Second,
		Log: slog.New(logs), After: clock.after})
	defer o.Close()
	var got []time.Duration
	for range 8 {
		got = append(got, <-clock.waits)
		clock.fire <- time.Time{}
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	if warns, infos := logs.counts(); warns != 1 || infos != 0 {
		t.Errorf("%d warnings and %d infos logged over 8 failed attempts, want 1 and 0: %v", warns, infos, logs.warns)
	}
	<-clock.waits // the attempt after the last wait failed too
	c := listen(t, sock)
	defer c.kill()
	clock.fire <- time.Time{}
	waitFor(t, "the connection", o.Connected)
	if _, infos := logs.counts(); infos != 1 {
		t.Errorf("%d infos logged once connected, want 1", infos)
	}
	c.kill()
	waitFor(t, "the connection to be seen gone", func() bool {
		o.Tap(nil)
		o.queue <- []byte("x") // a write finds the connection gone
		return !o.Connected()
	})
	if d := <-clock.waits; d != time.Second {
		t.Errorf("first wait after a lost connection %v, want 1s", d)
	}
	if warns, _ := logs.counts(); warns != 2 {
		t.Errorf("%d warnings, want 2 (unreachable, then lost): %v", warns, logs.warns)
	}
	go func() { clock.fire <- time.Time{} }()
}

// failingWriter accepts frames but cannot flush them.
type failingWriter struct{ written int }

func (w *failingWriter) WriteFrame(f []byte) (int, error) { w.written++; return len(f), nil }
func (w *failingWriter) Close() error                     { return nil }
func (w *failingWriter) Flush() error                     { return errors.New("connection reset") }

var _ dt.Writer = (*failingWriter)(nil)

// TestFramesCountedWhenFlushed: frames written to a connection that
// fails at the flush are counted as dropped, not as sent.
func TestFramesCountedWhenFlushed(t *testing.T) {
	o := &Output{queue: make(chan []byte, 4)}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	for range 3 {
		o.queue <- []byte("frame")
	}
	w := &failingWriter{}
	if err := o.pump(w); err == nil {
		t.Fatal("pump: no error from a failing flush")
	}
	if w.written != 3 || o.Frames() != 0 || o.Dropped() != 3 {
		t.Errorf("written %d: frames %d dropped %d, want 0 sent and 3 dropped", w.written, o.Frames(), o.Dropped())
	}
}
