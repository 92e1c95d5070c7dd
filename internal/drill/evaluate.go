package drill

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// Endpoints tells the evaluation what each endpoint id is answered as (an
// address, or a lowercase CNAME target with its final dot) and where it
// belongs.
type Endpoints map[string]EndpointInfo

// EndpointInfo is one endpoint of a service under test.
type EndpointInfo struct {
	Answer       string
	Jurisdiction string
}

// SeriesResult is how one series met one step's expectation.
type SeriesResult struct {
	Nameserver string        `json:"nameserver"`
	Client     string        `json:"client"`
	Service    string        `json:"service"`
	Met        bool          `json:"met"`
	Took       time.Duration `json:"took_ns"` // from the step's start to the first answer that met it
}

// StepResult is one step's outcome.
type StepResult struct {
	Step    int            `json:"step"`
	Kind    string         `json:"kind"` // fail, restore, wait or run
	Start   time.Time      `json:"start"`
	Within  time.Duration  `json:"within_ns,omitempty"`
	Met     bool           `json:"met"`
	Slowest time.Duration  `json:"slowest_ns"`
	Series  []SeriesResult `json:"series,omitempty"`
}

// Verdict is one SLO's outcome.
type Verdict struct {
	SLO    string `json:"slo"`
	Held   bool   `json:"held"`
	Detail string `json:"detail"`
}

// answerAt returns the answer a series had at t (the last change at or
// before it), and whether there was one.
func answerAt(se *Series, t time.Time) (Change, bool) {
	i, _ := slices.BinarySearchFunc(se.Changes, t, func(c Change, t time.Time) int { return c.At.Compare(t) })
	// i is the first change after t (or at it, when equal).
	if i < len(se.Changes) && se.Changes[i].At.Equal(t) {
		return se.Changes[i], true
	}
	if i == 0 {
		return Change{}, false
	}
	return se.Changes[i-1], true
}

// satisfies reports whether an answer meets an expectation.
func satisfies(c Change, exp *Expect, eps Endpoints) bool {
	if c.Rcode != dns.RcodeSuccess {
		return false
	}
	for _, id := range exp.Answered {
		if !slices.Contains(c.Answer, eps[id].Answer) {
			return false
		}
	}
	for _, id := range exp.NotAnswered {
		if slices.Contains(c.Answer, eps[id].Answer) {
			return false
		}
	}
	return true
}

// EvaluateStep says when each series first met the step's expectation
// after start.
func EvaluateStep(series []Series, step int, st *Step, start time.Time, eps Endpoints) StepResult {
	res := StepResult{Step: step, Kind: st.kind(), Start: start, Met: true}
	if st.Expect == nil {
		return res
	}
	res.Within = st.Expect.Within
	for i := range series {
		se := &series[i]
		sr := SeriesResult{Nameserver: se.Nameserver, Client: se.Client, Service: se.Service}
		if c, ok := answerAt(se, start); ok && satisfies(c, st.Expect, eps) {
			sr.Met = true
		} else {
			for _, c := range se.Changes {
				if c.At.After(start) && satisfies(c, st.Expect, eps) {
					sr.Took = c.At.Sub(start)
					sr.Met = sr.Took <= st.Expect.Within
					break
				}
			}
			if sr.Took == 0 {
				sr.Took = -1 // never
			}
		}
		res.Met = res.Met && sr.Met
		res.Slowest = max(res.Slowest, sr.Took)
		res.Series = append(res.Series, sr)
	}
	return res
}

func (st *Step) kind() string {
	switch {
	case st.Fail != nil:
		return "fail"
	case st.Restore != nil:
		return "restore"
	case st.Run != "":
		return "run"
	}
	return "wait"
}

// EvaluateSLO judges the drill's SLOs from its steps and every series.
func EvaluateSLO(slo SLO, steps []StepResult, series []Series, eps Endpoints) []Verdict {
	var out []Verdict
	for _, kind := range []struct {
		name  string
		limit time.Duration
	}{{"fail", slo.Failover}, {"restore", slo.Recovery}} {
		if kind.limit == 0 {
			continue
		}
		worst, held := time.Duration(0), true
		for _, sr := range steps {
			if sr.Kind != kind.name || sr.Within == 0 {
				continue
			}
			for _, s := range sr.Series {
				if s.Took < 0 || s.Took > kind.limit {
					held = false
				}
				worst = max(worst, s.Took)
			}
		}
		label := map[string]string{"fail": "failover", "restore": "recovery"}[kind.name]
		out = append(out, Verdict{SLO: fmt.Sprintf("%s within %v", label, kind.limit), Held: held, Detail: fmt.Sprintf("slowest %v", worst.Round(time.Millisecond))})
	}
	if slo.NoServFail || slo.NoTimeouts {
		var servfails, timeouts, queries int
		for _, se := range series {
			servfails += se.ServFails
			timeouts += se.Timeouts
			queries += se.Queries
		}
		if slo.NoServFail {
			out = append(out, Verdict{SLO: "no SERVFAIL", Held: servfails == 0, Detail: fmt.Sprintf("%d of %d queries", servfails, queries)})
		}
		if slo.NoTimeouts {
			out = append(out, Verdict{SLO: "no timeouts", Held: timeouts == 0, Detail: fmt.Sprintf("%d of %d queries", timeouts, queries)})
		}
	}
	if slo.Jurisdiction != "" {
		inside := map[string]bool{}
		for _, e := range eps {
			if e.Jurisdiction == slo.Jurisdiction {
				inside[e.Answer] = true
			}
		}
		outside := map[string]bool{}
		for _, se := range series {
			for _, c := range se.Changes {
				for _, a := range c.Answer {
					if !inside[a] {
						outside[a] = true
					}
				}
			}
		}
		detail := "every answer inside"
		if len(outside) > 0 {
			detail = fmt.Sprintf("answered outside: %v", slices.Sorted(maps.Keys(outside)))
		}
		out = append(out, Verdict{SLO: "never outside " + slo.Jurisdiction, Held: len(outside) == 0, Detail: detail})
	}
	return out
}
