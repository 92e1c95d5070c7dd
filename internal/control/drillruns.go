package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// Drill runs: the reports of past drills, kept so that what was proven
// and when can be shown later, under "drillruns/<drill>/<started:020d>"
// (schema.DrillRunKey).

// DrillRun is one drill's run as kept: a summary and the whole report
// (schema.DrillRun).
type DrillRun = schema.DrillRun

// ErrDrillRunNotFound means no drill run has that id.
var ErrDrillRunNotFound = errors.New("drill run not found")

// MaxDrillRuns is how many runs are kept per drill; older ones go.
const MaxDrillRuns = 100

var drillNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// SaveDrillRun keeps a run's report, dropping the drill's oldest runs
// beyond MaxDrillRuns, and returns its id.
func (s *DrillRuns) SaveDrillRun(ctx context.Context, run DrillRun, actor string) (string, error) {
	if !drillNameRE.MatchString(run.Drill) {
		return "", model.Errorf("drill", "%q is not a drill name (letters, digits, '.', '_', '-')", run.Drill)
	}
	if run.Started.IsZero() || run.Ended.Before(run.Started) {
		return "", model.Errorf("started", "a run needs its start, and an end not before it")
	}
	if len(run.Report) > 0 && !json.Valid(run.Report) {
		return "", model.Errorf("report", "not valid JSON")
	}
	run.Actor = actor
	run.ID = fmt.Sprintf("%s/%d", run.Drill, run.Started.UnixNano())
	b, err := schema.EncodeDrillRun(&run)
	if err != nil {
		return "", err
	}
	_, err = s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		key := schema.DrillRunKey(run.Drill, run.Started.UnixNano())
		if err := tx.Put(key, b); err != nil {
			return err
		}
		var keys []string
		err := tx.Scan(schema.DrillRunPrefix(run.Drill), "", func(key string, _ []byte) error {
			keys = append(keys, key)
			return nil
		})
		if err != nil {
			return err
		}
		dropped := 0
		for len(keys) > MaxDrillRuns {
			if err := btx.Delete(keys[0]); err != nil {
				return err
			}
			keys, dropped = keys[1:], dropped+1
		}
		detail := fmt.Sprintf("passed %t", run.Passed)
		if run.Aborted != "" {
			detail += ", aborted: " + run.Aborted
		}
		if dropped > 0 {
			detail += fmt.Sprintf("; %d older runs dropped", dropped)
		}
		if err := tx.change(schema.AuditDrillStream(run.Drill), "drill.run", "drill run "+run.ID, detail, key); err != nil {
			return err
		}
		return tx.commit(ctx, actor)
	})
	if err != nil {
		return "", err
	}
	s.log.Info("drill run recorded", "drill", run.Drill, "passed", run.Passed, "by", actor)
	return run.ID, nil
}

// DrillRuns lists the runs kept, newest first, of one drill or (drill "")
// of all; without their reports.
func (s *DrillRuns) DrillRuns(ctx context.Context, drill string, limit int) ([]DrillRun, error) {
	prefix := schema.PrefixDrillRuns
	if drill != "" {
		prefix = schema.DrillRunPrefix(drill)
	}
	var out []DrillRun
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		out = nil
		return tx.Scan(prefix, "", func(key string, value []byte) error {
			r, err := schema.DecodeDrillRun(key, value)
			if err != nil {
				return err
			}
			r.Report = nil
			out = append(out, *r)
			return nil
		})
	})
	// Newest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// DrillRun returns one run, report included.
func (s *DrillRuns) DrillRun(ctx context.Context, id string) (*DrillRun, error) {
	drill, run, _ := strings.Cut(id, "/")
	nanos, err := strconv.ParseInt(run, 10, 64)
	if err != nil || !drillNameRE.MatchString(drill) {
		return nil, fmt.Errorf("%w: %s", ErrDrillRunNotFound, id)
	}
	var r *DrillRun
	err = s.st.View(ctx, func(tx store.ReadTx) error {
		key := schema.DrillRunKey(drill, nanos)
		b, ok, err := tx.Get(key)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s", ErrDrillRunNotFound, id)
		}
		r, err = schema.DecodeDrillRun(key, b)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}
