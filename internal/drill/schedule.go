package drill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/config"
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
type Scheduler struct {
	pl     Plane
	keep   Keeper
	drills map[string]Scheduled
	log    *slog.Logger

	mu      sync.Mutex
	running map[string]bool
	wg      sync.WaitGroup
	ctx     context.Context
}

// ErrUnknownDrill and ErrDrillRunning are Start's refusals.
var (
	ErrUnknownDrill = errors.New("no such drill is configured")
	ErrDrillRunning = errors.New("the drill is running")
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
	return &Scheduler{pl: pl, keep: keep, drills: m, log: log, running: map[string]bool{}, ctx: context.Background()}
}

// Run runs each scheduled drill every interval until ctx is done, then
// waits for the runs in progress (which clear their faults). Drills
// started while it runs run with ctx (the leader's term); the others,
// and those started after it returns, with a context of their own. It
// may be called again after it returns.
func (s *Scheduler) Run(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.ctx = context.Background()
		s.mu.Unlock()
	}()
	for name, d := range s.drills {
		if d.Every <= 0 {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			t := time.NewTicker(d.Every)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					if err := s.Start(name, "schedule"); err != nil && !errors.Is(err, ErrDrillRunning) {
						s.log.Warn("scheduled drill did not start", "drill", name, "err", err)
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	<-ctx.Done()
	s.wg.Wait()
}

// Start runs a configured drill now, in the background, as actor.
func (s *Scheduler) Start(name, actor string) error {
	d, ok := s.drills[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownDrill, name)
	}
	s.mu.Lock()
	if s.running[name] {
		s.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrDrillRunning, name)
	}
	s.running[name] = true
	ctx := s.ctx
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.running, name)
			s.mu.Unlock()
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
