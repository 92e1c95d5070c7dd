package drill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// Scheduled is a drill the server runs: its scenario, read from its file
// at start, and how often (0: only when started through the API).
type Scheduled struct {
	Scenario *Scenario
	Every    time.Duration
}

// LoadScheduled reads the scenario files of the configured drills; an
// error names the drill's place in the configuration.
func LoadScheduled(drills []config.Drill) ([]Scheduled, error) {
	var out []Scheduled
	names := map[string]bool{}
	for i, d := range drills {
		f := d.Scenario
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("drills[%d].scenario: %w", i, err)
		}
		s, err := ParseScenario(f, b)
		if err != nil {
			return nil, fmt.Errorf("drills[%d].scenario: %w", i, err)
		}
		if names[s.Name] {
			return nil, fmt.Errorf("drills[%d].scenario: another drill is named %q", i, s.Name)
		}
		names[s.Name] = true
		out = append(out, Scheduled{Scenario: s, Every: d.Every})
	}
	return out, nil
}

// Scheduler runs the server's drills on their schedules and on demand,
// one run of a drill at a time, and keeps every report.
//
// A scheduled drill runs with the context Run was given (the leader's
// fenced term) and Run waits for it. A drill started through Start runs
// for the node's lifetime, on any node, leading or not: Close stops it
// and waits for it to clear its faults.
type Scheduler struct {
	pl     Plane
	keep   Keeper
	drills map[string]Scheduled
	log    *slog.Logger
	alerts alert.Sink

	base   context.Context // the node's lifetime: drills started by hand
	cancel context.CancelFunc
	manual sync.WaitGroup // drills started by hand

	mu      sync.Mutex
	running map[string]bool
	closed  bool
}

// ErrUnknownDrill, ErrDrillRunning and ErrClosed are Start's refusals.
var (
	ErrUnknownDrill = errors.New("no such drill is configured")
	ErrDrillRunning = errors.New("the drill is running")
	ErrClosed       = errors.New("the node is shutting down")
)

// NewScheduler returns a scheduler; Run starts it.
func NewScheduler(pl Plane, keep Keeper, drills []Scheduled, log *slog.Logger) *Scheduler {
	m := map[string]Scheduled{}
	for _, d := range drills {
		m[d.Scenario.Name] = d
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	return &Scheduler{pl: pl, keep: keep, drills: m, log: log, alerts: alert.Discard, running: map[string]bool{}, base: base, cancel: cancel}
}

// SetAlerts sets where a failed run's drill_failed alert goes (default
// nowhere). Call it before Run and Start.
func (s *Scheduler) SetAlerts(a alert.Sink) { s.alerts = a }

// Run runs each scheduled drill every interval until ctx is done, then
// waits for the scheduled runs in progress (which clear their faults).
// Scheduled runs run with ctx (the leader's term). It may be called
// again after it returns.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for name, d := range s.drills {
		if d.Every <= 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer telemetry.Recover(s.log, "drill")
			t := time.NewTicker(d.Every)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					if err := s.start(ctx, &wg, name, "schedule"); err != nil && !errors.Is(err, ErrDrillRunning) {
						s.log.Warn("scheduled drill did not start", "drill", name, "err", err)
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
}

// Start runs a configured drill now, in the background, as actor. The
// run lasts at most as long as the node: Close stops it.
func (s *Scheduler) Start(name, actor string) error {
	return s.start(s.base, &s.manual, name, actor)
}

// Close stops the drills started through Start and waits for them to
// clear their faults and keep their reports; Start refuses afterwards.
// The store must stay open until it returns.
func (s *Scheduler) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.manual.Wait()
}

// start runs drill name with ctx, counted in wg.
func (s *Scheduler) start(ctx context.Context, wg *sync.WaitGroup, name, actor string) error {
	d, ok := s.drills[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownDrill, name)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.running[name] {
		s.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrDrillRunning, name)
	}
	s.running[name] = true
	wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.running, name)
			s.mu.Unlock()
		}()
		defer func() {
			// A run that panics did not pass: it is reported like an
			// aborted one, so that a drill that breaks is not silent.
			if r := recover(); r != nil {
				telemetry.Panicked(s.log.With("drill", name), "drill", r, debug.Stack())
				why := fmt.Sprintf("panic: %v", r)
				s.alerts.Emit(alert.Event{Kind: alert.DrillFailed, Time: time.Now(), Drill: name, Summary: "drill " + name + " failed: " + why,
					Details: map[string]string{"run": "", "started_by": actor, "aborted": why}})
			}
		}()
		s.log.Info("drill started", "drill", name, "by", actor)
		rep, err := Run(ctx, s.pl, d.Scenario, RunOptions{})
		if rep == nil {
			s.log.Warn("drill did not run", "drill", name, "err", err)
			return
		}
		rec, kerr := rep.Record()
		var id string
		if kerr == nil {
			id, kerr = s.keep.KeepRun(context.WithoutCancel(ctx), rec, actor)
		}
		if kerr != nil {
			s.log.Warn("drill run not kept", "drill", name, "err", kerr)
		}
		s.log.Info("drill finished", "drill", name, "passed", rep.Passed, "run", id)
		if !rep.Passed {
			s.alerts.Emit(failedAlert(rep, id, actor))
		}
	}()
	return nil
}

// Names lists the configured drills.
func (s *Scheduler) Names() []string {
	var out []string
	for n := range s.drills {
		out = append(out, n)
	}
	return out
}

// failedAlert is the drill_failed alert of a run that did not pass.
func failedAlert(rep *Report, id, actor string) alert.Event {
	why := rep.Aborted
	if why == "" {
		for _, sr := range rep.Steps {
			if !sr.Met {
				why = "a step's expectation did not hold"
				break
			}
		}
	}
	var failed []string
	for _, v := range rep.Verdicts {
		if v.Result == NotHeld {
			failed = append(failed, v.SLO)
		}
	}
	if why == "" && len(failed) > 0 {
		why = "SLO not held: " + strings.Join(failed, ", ")
	}
	if why == "" {
		why = "not every step ran"
	}
	d := map[string]string{"run": id, "started_by": actor}
	if len(failed) > 0 {
		d["slos_not_held"] = strings.Join(failed, ",")
	}
	if rep.Aborted != "" {
		d["aborted"] = rep.Aborted
	}
	return alert.Event{Kind: alert.DrillFailed, Time: rep.Ended, Drill: rep.Scenario, Summary: "drill " + rep.Scenario + " failed: " + why, Details: d}
}
