package drill

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Endpoints tells the evaluation what each endpoint id is answered as (an
// address, or a lowercase CNAME target with its final dot) and where it
// belongs.
type Endpoints map[string]EndpointInfo

// EndpointInfo is one endpoint of a service under test.
type EndpointInfo struct {
	Answer       string `json:"answer"`
	Service      string `json:"service,omitempty"`
	Pool         string `json:"pool,omitempty"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
}

// Name says who an answer is: the endpoints answered as it, with their
// pools ("192.0.2.1 = fra-1 (pool eu-central)"), or the answer alone when
// no endpoint under test is answered as it.
func (eps Endpoints) Name(answer string) string {
	if parts := strings.Split(answer, ", "); len(parts) > 1 {
		for i, a := range parts {
			parts[i] = eps.Name(a)
		}
		return strings.Join(parts, ", ")
	}
	var who []string
	for _, id := range slices.Sorted(maps.Keys(eps)) {
		if e := eps[id]; e.Answer == answer {
			w := id
			if e.Pool != "" {
				w += " (pool " + e.Pool + ")"
			}
			who = append(who, w)
		}
	}
	if len(who) == 0 {
		return answer
	}
	return answer + " = " + strings.Join(who, ", ")
}

// SeriesResult is how one series met one step's expectation.
type SeriesResult struct {
	Nameserver string `json:"nameserver"`
	Client     string `json:"client"`
	Service    string `json:"service"`
	Met        bool   `json:"met"`
	// Took is the time from the step's start to the first answer that
	// met the expectation: 0 when the answer met it already at the start
	// (AtStart: nothing to measure), -1 when none did.
	Took    time.Duration `json:"took_ns"`
	AtStart bool          `json:"at_start,omitempty"`
	// Instead is what was answered when the expectation's time was up,
	// when it was not met (answerLabel: records, "no records", an rcode,
	// "timeout" or "error"; "nothing yet" before any answer).
	Instead string `json:"instead,omitempty"`
}

// TookText says how long the series took to meet the step's expectation,
// as the report and the CLI show it: "at start", "never", or the time to
// the millisecond ("350ms").
func (s SeriesResult) TookText() string {
	switch {
	case s.AtStart:
		return "at start"
	case s.Took < 0:
		return "never"
	}
	return s.Took.Round(time.Millisecond).String()
}

// StepResult is one step's outcome.
type StepResult struct {
	Step   int           `json:"step"`
	Kind   string        `json:"kind"` // fail, restore, wait or run
	What   string        `json:"what"` // the fault, repair or wait: "fail pool eu-west of api.fn.example.com"
	Expect string        `json:"expect,omitempty"`
	Start  time.Time     `json:"start"`
	Within time.Duration `json:"within_ns,omitempty"`
	Met    bool          `json:"met"`
	// Slowest is the longest time measured (series that changed to meet
	// the expectation); Measured counts them, Never counts the series that
	// never met it.
	Slowest  time.Duration  `json:"slowest_ns"`
	Measured int            `json:"measured"`
	Never    int            `json:"never,omitempty"`
	Series   []SeriesResult `json:"series,omitempty"`
}

// Verdict results.
const (
	Held        = "held"
	NotHeld     = "not held"
	NotMeasured = "not measured" // no step measured it: it neither held nor failed
)

// Verdict is one SLO's outcome.
type Verdict struct {
	SLO    string `json:"slo"`
	Held   bool   `json:"held"`   // false when not measured
	Result string `json:"result"` // held, not held or not measured
	Detail string `json:"detail"`
}

func verdict(slo string, held bool, detail string) Verdict {
	r := NotHeld
	if held {
		r = Held
	}
	return Verdict{SLO: slo, Held: held, Result: r, Detail: detail}
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
	res := StepResult{Step: step, Kind: st.kind(), What: describe(st), Start: start, Met: true}
	if st.Expect == nil {
		return res
	}
	res.Expect = describeExpect(st.Expect)
	res.Within = st.Expect.Within
	for i := range series {
		se := &series[i]
		sr := SeriesResult{Nameserver: se.Nameserver, Client: se.Client, Service: se.Service, Took: -1}
		if c, ok := answerAt(se, start); ok && satisfies(c, st.Expect, eps) {
			sr.Met, sr.AtStart, sr.Took = true, true, 0
		} else {
			for _, c := range se.Changes {
				if c.At.After(start) && satisfies(c, st.Expect, eps) {
					sr.Took = c.At.Sub(start)
					sr.Met = sr.Took <= st.Expect.Within
					break
				}
			}
		}
		switch {
		case sr.Took > 0:
			res.Measured++
			res.Slowest = max(res.Slowest, sr.Took)
		case sr.Took < 0:
			res.Never++
		}
		if !sr.Met {
			sr.Instead = "nothing yet"
			if c, ok := answerAt(se, start.Add(st.Expect.Within)); ok {
				sr.Instead = answerLabel(c)
			}
		}
		res.Met = res.Met && sr.Met
		res.Series = append(res.Series, sr)
	}
	return res
}

// describeExpect says what an expectation asks.
func describeExpect(e *Expect) string {
	var parts []string
	if len(e.Answered) > 0 {
		parts = append(parts, "answered "+strings.Join(e.Answered, ", "))
	}
	if len(e.NotAnswered) > 0 {
		parts = append(parts, "not answered "+strings.Join(e.NotAnswered, ", "))
	}
	if len(parts) == 0 {
		parts = append(parts, "an answer")
	}
	return strings.Join(parts, "; ") + " within " + e.Within.String()
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
		label := map[string]string{"fail": "failover", "restore": "recovery"}[kind.name]
		name := fmt.Sprintf("%s within %v", label, kind.limit)
		var worst time.Duration
		var series, measured, atStart, never, late int
		for _, sr := range steps {
			if sr.Kind != kind.name || sr.Within == 0 {
				continue
			}
			for _, s := range sr.Series {
				series++
				switch {
				case s.AtStart:
					atStart++
				case s.Took < 0:
					never++
				default:
					measured++
					worst = max(worst, s.Took)
					if s.Took > kind.limit {
						late++
					}
				}
			}
		}
		var detail []string
		switch {
		case series == 0:
			out = append(out, Verdict{SLO: name, Result: NotMeasured, Detail: "no " + kind.name + " step has an expectation"})
			continue
		case measured > 0:
			detail = append(detail, fmt.Sprintf("slowest %v of %d measured", worst.Round(time.Millisecond), measured))
		}
		if never > 0 {
			detail = append(detail, fmt.Sprintf("never observed for %d of %d series", never, series))
		}
		if atStart > 0 {
			detail = append(detail, fmt.Sprintf("%d of %d series already answered as expected at the step's start (nothing to measure)", atStart, series))
		}
		if measured == 0 && never == 0 {
			out = append(out, Verdict{SLO: name, Result: NotMeasured, Detail: strings.Join(detail, "; ")})
			continue
		}
		out = append(out, verdict(name, never == 0 && late == 0, strings.Join(detail, "; ")))
	}
	if slo.NoServFail || slo.NoTimeouts {
		var servfails, timeouts, queries int
		for _, se := range series {
			servfails += se.ServFails
			timeouts += se.Timeouts
			queries += se.Queries
		}
		if slo.NoServFail {
			out = append(out, verdict("no SERVFAIL", servfails == 0, fmt.Sprintf("%d of %d queries", servfails, queries)))
		}
		if slo.NoTimeouts {
			out = append(out, verdict("no timeouts", timeouts == 0, fmt.Sprintf("%d of %d queries", timeouts, queries)))
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
		out = append(out, verdict("never outside "+slo.Jurisdiction, len(outside) == 0, detail))
	}
	return out
}
