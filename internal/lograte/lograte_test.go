package lograte

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/testutil"
)

func newTest(burst int, interval time.Duration) (*Limiter, *clock.Fake, *testutil.LogBuffer) {
	var buf testutil.LogBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	return New(log, burst, interval, c), c, &buf
}

func TestLimiter(t *testing.T) {
	// Each step logs n lines of kind after stepping the clock by step; want
	// is the output of the whole step.
	type step struct {
		step time.Duration
		kind string
		n    int
		want []string
	}
	const (
		a = `level=INFO msg=a`
		b = `level=INFO msg=b`
	)
	for _, tc := range []struct {
		name  string
		burst int
		steps []step
	}{
		{"under the burst", 3, []step{
			{0, "a", 3, []string{a, a, a}},
		}},
		{"over the burst", 3, []step{
			{0, "a", 10, []string{a, a, a}},
			{5 * time.Second, "a", 1, nil},
			{5 * time.Second, "a", 2, []string{
				`level=INFO msg="log lines suppressed" kind=a suppressed=8 interval=10s`, a, a}},
		}},
		{"kinds apart", 2, []step{
			{0, "a", 5, []string{a, a}},
			{0, "b", 5, []string{b, b}},
			{10 * time.Second, "b", 1, []string{
				`level=INFO msg="log lines suppressed" kind=b suppressed=3 interval=10s`, b}},
		}},
		{"no count when nothing was dropped", 2, []step{
			{0, "a", 2, []string{a, a}},
			{time.Minute, "a", 1, []string{a}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, c, buf := newTest(tc.burst, 10*time.Second)
			seen := 0
			for i, s := range tc.steps {
				c.Step(s.step)
				for range s.n {
					l.Info(s.kind)
				}
				got := buf.Lines()[seen:]
				seen += len(got)
				if strings.Join(got, "\n") != strings.Join(s.want, "\n") {
					t.Errorf("step %d: got\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(s.want, "\n"))
				}
			}
		})
	}
}

func TestFlushReportsAStoppedFlood(t *testing.T) {
	l, c, buf := newTest(1, 10*time.Second)
	for range 5 {
		l.Warn("refused")
	}
	l.Flush() // the interval has not ended: nothing yet
	if got := len(buf.Lines()); got != 1 {
		t.Fatalf("before the interval ended: %d lines, want 1", got)
	}
	c.Step(10 * time.Second)
	l.Flush()
	lines := buf.Lines()
	want := `level=WARN msg="log lines suppressed" kind=refused suppressed=4 interval=10s`
	if len(lines) != 2 || lines[1] != want {
		t.Fatalf("after the interval: %q, want the count line %q", lines, want)
	}
	l.Flush()
	if got := len(buf.Lines()); got != 2 {
		t.Fatalf("a second flush wrote again: %d lines", got)
	}
}

func TestDisabledLevelCostsNothing(t *testing.T) {
	var buf testutil.LogBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l := New(log, 1, time.Second, clock.NewFake(time.Unix(0, 0)))
	for range 5 {
		l.Info("quiet")
	}
	if len(l.kinds) != 0 || len(buf.Lines()) != 0 {
		t.Fatalf("a disabled level was counted: %d kinds, %q", len(l.kinds), buf.Lines())
	}
}

func TestConcurrent(t *testing.T) {
	l, _, buf := newTest(5, time.Hour)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				l.Info("x")
			}
		}()
	}
	wg.Wait()
	if got := len(buf.Lines()); got != 5 {
		t.Fatalf("%d lines, want 5", got)
	}
	if w := l.kinds["x"]; w.suppressed != 795 {
		t.Fatalf("suppressed %d, want 795", w.suppressed)
	}
}

func TestLogger(t *testing.T) {
	l, c, buf := newTest(2, 10*time.Second)
	log := l.Logger().With("component", "x")
	for range 5 {
		log.Info("refused", "from", "192.0.2.1")
	}
	c.Step(10 * time.Second)
	log.Info("refused", "from", "192.0.2.2")
	want := []string{
		`level=INFO msg=refused component=x from=192.0.2.1`,
		`level=INFO msg=refused component=x from=192.0.2.1`,
		`level=INFO msg="log lines suppressed" component=x kind=refused suppressed=3 interval=10s`,
		`level=INFO msg=refused component=x from=192.0.2.2`,
	}
	if got := buf.Lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
