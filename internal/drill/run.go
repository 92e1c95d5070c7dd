package drill

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/telemetry"
)

// RunOptions tune a drill run; zero fields take the defaults.
type RunOptions struct {
	// Lease is how long each injected fault lasts unless renewed (default
	// 30s); the drill renews it every third of that.
	Lease time.Duration
	// Settle is how long the nameservers are watched before the first
	// step, for a baseline (default three intervals).
	Settle time.Duration
	// Progress, when set, is told of each step as it starts.
	Progress func(string)
	// Force runs the drill even when a service under test is already
	// degraded.
	Force bool
}

// ErrDegraded means a service under test is already degraded.
var ErrDegraded = errors.New("a service under test is already degraded")

// Report is a drill's outcome.
type Report struct {
	Scenario string       `json:"scenario"`
	Started  time.Time    `json:"started"`
	Ended    time.Time    `json:"ended"`
	Passed   bool         `json:"passed"`
	Aborted  string       `json:"aborted,omitempty"`
	Steps    []StepResult `json:"steps"`
	Verdicts []Verdict    `json:"verdicts"`
	Series   []Series     `json:"series"`
	// Endpoints are the endpoints under test by id: what each is answered
	// as, and its service and pool.
	Endpoints Endpoints `json:"endpoints,omitempty"`
}

// Run runs the drill: it watches the nameservers, injects and repairs the
// faults step by step (each a time-limited override, renewed while the
// drill runs), waits for each expectation, and judges the SLOs. Whatever
// happens — an error, ctx cancelled — every fault it set is cleared before
// it returns. A target that matches nothing fails the drill before
// anything is changed, and so does a service under test already degraded
// (an endpoint out of the answers), unless forced.
func Run(ctx context.Context, pl Plane, s *Scenario, opts RunOptions) (*Report, error) {
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Settle <= 0 {
		opts.Settle = 3 * s.Interval
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	w, err := loadWorld(ctx, pl, s)
	if err != nil {
		return nil, err
	}
	if !opts.Force {
		for n := range w.services {
			down, err := pl.Unanswerable(ctx, n)
			if err != nil {
				return nil, err
			}
			if len(down) > 0 {
				return nil, fmt.Errorf("%w: %s has %s out of its answers (--force to run anyway)", ErrDegraded, n, strings.Join(down, ", "))
			}
		}
	}
	stepFaults, err := w.stepFaults(s)
	if err != nil {
		return nil, err
	}
	eps := w.endpointInfo()

	fs := newFaultSet(pl, s.Name, opts.Lease)
	rep := &Report{Scenario: s.Name, Started: time.Now(), Endpoints: eps}
	prober := NewProber(s)
	pctx, stopProbing := context.WithCancel(context.Background())
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		defer telemetry.Recover(nil, "drill") // the report has what was probed
		prober.Run(pctx, s)
	}()
	rctx, stopRenewing := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		defer telemetry.Recover(nil, "drill") // the faults then end with their leases
		t := time.NewTicker(opts.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fs.renew(rctx)
			case <-rctx.Done():
				return
			}
		}
	}()
	finish := func() {
		stopRenewing()
		<-renewed
		// The faults are cleared even when ctx is done, with its values:
		// a leader's fence refuses the clearing once its term has ended
		// (the faults then end with their leases).
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := fs.clearAll(cctx); err != nil && rep.Aborted == "" {
			rep.Aborted = "restoring the faults: " + err.Error()
		}
		stopProbing()
		<-probed
	}

	starts := make([]time.Time, len(s.Steps))
	err = func() error {
		if err := sleep(ctx, opts.Settle); err != nil {
			return err
		}
		for i := range s.Steps {
			st := &s.Steps[i]
			starts[i] = time.Now()
			progress(fmt.Sprintf("step %d/%d: %s", i+1, len(s.Steps), describe(st)))
			switch {
			case hook(st) != "":
				if err := runHook(ctx, hook(st)); err != nil {
					return fmt.Errorf("steps[%d]: %w", i, err)
				}
			case st.Fail != nil:
				for _, f := range stepFaults[i] {
					if err := fs.set(ctx, f, fmt.Sprintf("drill %s, step %d", s.Name, i+1)); err != nil {
						return err
					}
				}
			case st.Restore != nil:
				for _, f := range stepFaults[i] {
					if err := fs.clear(ctx, f); err != nil {
						return err
					}
				}
			default:
				if err := sleep(ctx, st.Wait); err != nil {
					return err
				}
			}
			if st.Expect != nil {
				if err := awaitExpect(ctx, prober, i, st, starts[i], eps, s.Interval); err != nil {
					return err
				}
			}
		}
		return sleep(ctx, opts.Settle)
	}()
	finish()
	rep.Ended = time.Now()
	rep.Series = prober.Series()
	for i := range s.Steps {
		if !starts[i].IsZero() {
			rep.Steps = append(rep.Steps, EvaluateStep(rep.Series, i, &s.Steps[i], starts[i], eps))
		}
	}
	rep.Verdicts = EvaluateSLO(s.SLO, rep.Steps, rep.Series, eps)
	if err != nil {
		if rep.Aborted == "" {
			rep.Aborted = err.Error()
		}
		return rep, err
	}
	rep.Passed = rep.Aborted == "" && len(rep.Steps) == len(s.Steps)
	for _, sr := range rep.Steps {
		rep.Passed = rep.Passed && sr.Met
	}
	for _, v := range rep.Verdicts {
		// An SLO no step measured neither holds nor fails the drill.
		rep.Passed = rep.Passed && (v.Held || v.Result == NotMeasured)
	}
	return rep, nil
}

// hook returns the command a step runs, if it is a hook.
func hook(st *Step) string {
	if st.Run != "" {
		return st.Run
	}
	for _, t := range []*Target{st.Fail, st.Restore} {
		if t != nil {
			return t.Run
		}
	}
	return ""
}

// hookTimeout bounds a hook command.
const hookTimeout = time.Minute

// runHook runs a hook command with sh -c; a failure stops the drill.
func runHook(ctx context.Context, command string) error {
	ctx, cancel := context.WithTimeout(ctx, hookTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sh", "-c", command).CombinedOutput()
	if err != nil {
		return fmt.Errorf("hook %q: %v: %s", command, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// awaitExpect waits until every series meets the step's expectation, or
// its time is up (and one interval more, for the last answers to come in).
func awaitExpect(ctx context.Context, p *Prober, i int, st *Step, start time.Time, eps Endpoints, interval time.Duration) error {
	deadline := start.Add(st.Expect.Within + interval)
	for time.Now().Before(deadline) {
		if r := EvaluateStep(p.Series(), i, st, start, eps); r.Met && len(r.Series) > 0 {
			return nil
		}
		if err := sleep(ctx, interval); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errors.New("aborted")
	}
}

// describe says what a step does.
func describe(st *Step) string {
	switch {
	case st.Run != "":
		return "run " + st.Run
	case hook(st) != "":
		return st.kind() + ": run " + hook(st)
	case st.Fail != nil:
		return "fail " + target(st.Fail)
	case st.Restore != nil:
		return "restore " + target(st.Restore)
	}
	return "wait " + st.Wait.String()
}

func target(t *Target) string {
	for _, kv := range []struct{ k, v string }{{"endpoint", t.Endpoint}, {"pool", t.Pool}, {"region", t.Region}, {"provider", t.Provider}, {"jurisdiction", t.Jurisdiction}} {
		if kv.v != "" {
			if t.Service != "" && (kv.k == "endpoint" || kv.k == "pool") {
				return fmt.Sprintf("%s %s of %s", kv.k, kv.v, t.Service)
			}
			return kv.k + " " + kv.v
		}
	}
	return "?"
}
