// Package deploy holds what an operator runs beside Stratus: the Grafana
// dashboard (grafana/stratus.json) and Prometheus's scrape configuration
// and alerting rules (prometheus/). The Go code reads the PromQL
// expressions out of them and names the metrics each one uses, so that the
// tests can check every expression against the metrics a node exports
// and evaluate it in a real Prometheus.
package deploy

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Files are the deploy files, embedded.
//
//go:embed grafana/stratus.json prometheus/prometheus.yml prometheus/alerts.yml
var Files embed.FS

// The paths of the files in Files (and in the repository, under deploy/).
const (
	DashboardFile = "grafana/stratus.json"
	ConfigFile    = "prometheus/prometheus.yml"
	AlertsFile    = "prometheus/alerts.yml"
)

// Expr is one PromQL expression of a deploy file and where it is.
type Expr struct {
	Where string // e.g. `panel "Failover active" A`, `alert StratusDown`
	Expr  string
}

// dashboard is the part of Grafana's dashboard model the expressions are
// in.
type dashboard struct {
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Title   string  `json:"title"`
	Type    string  `json:"type"`
	Panels  []panel `json:"panels"` // of a collapsed row
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

var labelValuesRE = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)

// DashboardExprs returns the PromQL expressions of the dashboard: every
// panel's targets, the annotations' queries, and, for a query variable
// label_values(metric, label), the metric it reads.
func DashboardExprs(doc []byte) ([]Expr, error) {
	var d dashboard
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	var out []Expr
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValuesRE.FindStringSubmatch(v.Definition)
		if m == nil {
			return nil, fmt.Errorf("dashboard: variable %s: query %q is not label_values(metric, label)", v.Name, v.Definition)
		}
		out = append(out, Expr{Where: "variable " + v.Name, Expr: m[1]})
	}
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			out = append(out, Expr{Where: fmt.Sprintf("annotation %q", a.Name), Expr: a.Expr})
		}
	}
	var walk func([]panel) error
	walk = func(ps []panel) error {
		for _, p := range ps {
			if err := walk(p.Panels); err != nil {
				return err
			}
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				return fmt.Errorf("dashboard: panel %q has no query", p.Title)
			}
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) == "" {
					return fmt.Errorf("dashboard: panel %q query %s has no expression", p.Title, t.RefID)
				}
				out = append(out, Expr{Where: fmt.Sprintf("panel %q %s", p.Title, t.RefID), Expr: t.Expr})
			}
		}
		return nil
	}
	if err := walk(d.Panels); err != nil {
		return nil, err
	}
	return out, nil
}

// AlertExprs returns the expressions of Prometheus alerting (and
// recording) rules.
func AlertExprs(doc []byte) ([]Expr, error) {
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert  string `yaml:"alert"`
				Record string `yaml:"record"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(doc, &f); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	var out []Expr
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			name := "alert " + r.Alert
			if r.Alert == "" {
				name = "record " + r.Record
			}
			if strings.TrimSpace(r.Expr) == "" {
				return nil, fmt.Errorf("rules: group %s: %s has no expr", g.Name, name)
			}
			out = append(out, Expr{Where: name, Expr: r.Expr})
		}
	}
	return out, nil
}

// Exprs returns the expressions of the embedded dashboard and alerting
// rules.
func Exprs() ([]Expr, error) {
	dash, err := Files.ReadFile(DashboardFile)
	if err != nil {
		return nil, err
	}
	alerts, err := Files.ReadFile(AlertsFile)
	if err != nil {
		return nil, err
	}
	d, err := DashboardExprs(dash)
	if err != nil {
		return nil, err
	}
	a, err := AlertExprs(alerts)
	if err != nil {
		return nil, err
	}
	return append(d, a...), nil
}

// keywords are PromQL's words that are neither metrics nor functions:
// aggregation operators, set and binary operators, and modifiers.
var keywords = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"and": true, "or": true, "unless": true, "atan2": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "offset": true, "inf": true, "nan": true,
}

// labelLists are the keywords followed by a parenthesised list of label
// names.
var labelLists = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// functions are PromQL's functions (Prometheus 2.x), with the start()
// and end() of the @ modifier.
var functions = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`abs absent absent_over_time avg_over_time ceil changes clamp clamp_max
		clamp_min count_over_time days_in_month day_of_month day_of_week day_of_year delta deriv exp
		floor histogram_count histogram_fraction histogram_quantile histogram_sum holt_winters hour
		idelta increase irate label_join label_replace last_over_time ln log10 log2 max_over_time
		min_over_time minute month predict_linear present_over_time quantile_over_time rate resets
		round scalar sgn sort sort_desc sqrt stddev_over_time stdvar_over_time sum_over_time time
		timestamp vector year acos acosh asin asinh atan atanh cos cosh sin sinh tan tanh deg pi rad start end`) {
		functions[f] = true
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdent(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

// MetricNames returns the metric names expr reads, sorted and without
// repeats: the identifiers that are not keywords, functions, label names
// (inside {} or a by/without/on/ignoring list), strings, numbers,
// durations or dashboard variables ($name, ${name}, [[name]]); a
// __name__="..." matcher names a metric too. An unknown function, an
// unterminated string or an unbalanced bracket is an error.
func MetricNames(expr string) ([]string, error) {
	names := map[string]bool{}
	s := expr
	i := 0
	skipSpace := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	// str skips the string literal starting at i.
	str := func() error {
		q := s[i]
		for j := i + 1; j < len(s); j++ {
			if s[j] == '\\' && q != '`' {
				j++
				continue
			}
			if s[j] == q {
				i = j + 1
				return nil
			}
		}
		return fmt.Errorf("%q: unterminated string at offset %d", expr, i)
	}
	// variable skips a dashboard variable at i, if there is one.
	variable := func() bool {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			if j := strings.IndexByte(s[i:], '}'); j > 0 {
				i += j + 1
				return true
			}
		case s[i] == '$':
			j := i + 1
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			if j > i+1 {
				i = j
				return true
			}
		case strings.HasPrefix(s[i:], "[["):
			if j := strings.Index(s[i:], "]]"); j > 0 {
				i += j + 2
				return true
			}
		}
		return false
	}
	// matchers skips the label matchers {...} at i, taking a
	// __name__="metric" matcher as a metric name.
	matchers := func() error {
		start := i
		i++
		for i < len(s) {
			skipSpace()
			if i >= len(s) {
				break
			}
			switch c := s[i]; {
			case c == '}':
				i++
				return nil
			case c == '"' || c == '\'' || c == '`':
				if err := str(); err != nil {
					return err
				}
			case isIdentStart(c):
				j := i
				for j < len(s) && isIdent(s[j]) {
					j++
				}
				label := s[i:j]
				i = j
				skipSpace()
				if label == "__name__" && strings.HasPrefix(s[i:], "=") && !strings.HasPrefix(s[i:], "=~") {
					i++
					skipSpace()
					if i < len(s) && (s[i] == '"' || s[i] == '\'') {
						v := i + 1
						if err := str(); err != nil {
							return err
						}
						names[s[v:i-1]] = true
					}
				}
			default:
				i++ // = != =~ !~ ,
			}
		}
		return fmt.Errorf("%q: { at offset %d is not closed", expr, start)
	}
	depth := 0
	for {
		skipSpace()
		if i >= len(s) {
			break
		}
		c := s[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			if err := str(); err != nil {
				return nil, err
			}
		case c == '#': // a comment, to the end of the line
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '$' || strings.HasPrefix(s[i:], "[["):
			if !variable() {
				return nil, fmt.Errorf("%q: stray $ at offset %d", expr, i)
			}
		case c == '{':
			if err := matchers(); err != nil {
				return nil, err
			}
		case c == '[':
			// A range or subquery: durations and variables only.
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("%q: [ at offset %d is not closed", expr, i)
			}
			i += j + 1
		case c == '(':
			depth++
			i++
		case c == ')':
			if depth--; depth < 0 {
				return nil, fmt.Errorf("%q: ) at offset %d closes nothing", expr, i)
			}
			i++
		case '0' <= c && c <= '9' || c == '.':
			for i < len(s) && (isIdent(s[i]) || s[i] == '.' || (s[i] == '+' || s[i] == '-') && (s[i-1] == 'e' || s[i-1] == 'E')) {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			word := s[i:j]
			i = j
			skipSpace()
			call := i < len(s) && s[i] == '('
			lower := strings.ToLower(word)
			switch {
			case labelLists[lower]:
				if !call {
					if lower == "group_left" || lower == "group_right" {
						continue
					}
					return nil, fmt.Errorf("%q: %s without a label list", expr, word)
				}
				k := strings.IndexByte(s[i:], ')')
				if k < 0 {
					return nil, fmt.Errorf("%q: %s( is not closed", expr, word)
				}
				i += k + 1
			case lower == "offset":
				skipSpace()
				for i < len(s) && (isIdent(s[i]) || s[i] == '-' || s[i] == '$' || s[i] == '{' || s[i] == '}') {
					i++
				}
			case keywords[lower]:
			case call && functions[word]:
			case call:
				return nil, fmt.Errorf("%q: unknown function %s", expr, word)
			default:
				names[word] = true
			}
		default:
			i++ // operators, commas, @
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("%q: %d ( not closed", expr, depth)
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

var varRE = regexp.MustCompile(`\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)|\[\[([a-zA-Z_][a-zA-Z0-9_]*)\]\]`)

// Substitute replaces the dashboard variables of expr ($name, ${name},
// [[name]]) by their values in vars, as Grafana does before it sends a
// query. A variable missing from vars is an error.
func Substitute(expr string, vars map[string]string) (string, error) {
	var missing []string
	out := varRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := varRE.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%q: no value for %s", expr, strings.Join(missing, ", "))
	}
	return out, nil
}

// Scraped are the names of the series Prometheus scrapes from Stratus
// beside its own: up and the scrape_* series, and the ALERTS series of
// its rules.
var Scraped = map[string]bool{
	"up": true, "scrape_duration_seconds": true, "scrape_samples_scraped": true,
	"scrape_samples_post_metric_relabeling": true, "scrape_series_added": true,
	"ALERTS": true, "ALERTS_FOR_STATE": true,
}

// ExposedNames returns the names of the series in a Prometheus text
// exposition (what /metrics serves): for a histogram its _bucket, _sum
// and _count series, never its bare name.
func ExposedNames(exposition string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(exposition, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		if j := strings.IndexAny(l, "{ \t"); j > 0 {
			out[l[:j]] = true
		}
	}
	return out
}

// Unknown returns, for each expression, the metric names it reads that
// are neither in exposed nor series Prometheus adds itself (Scraped), as
// "where: expression: names" lines; and an error for an expression the
// tokenizer cannot read.
func Unknown(exprs []Expr, exposed map[string]bool) ([]string, error) {
	var out []string
	for _, e := range exprs {
		names, err := MetricNames(e.Expr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Where, err)
		}
		if len(names) == 0 && !strings.HasPrefix(e.Where, "variable ") {
			return nil, fmt.Errorf("%s: %q reads no metric", e.Where, e.Expr)
		}
		var miss []string
		for _, n := range names {
			if !exposed[n] && !Scraped[n] {
				miss = append(miss, n)
			}
		}
		if len(miss) > 0 {
			out = append(out, fmt.Sprintf("%s: %s: %s", e.Where, e.Expr, strings.Join(miss, ", ")))
		}
	}
	return out, nil
}
