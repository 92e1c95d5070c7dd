package deploy

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
		err  string
	}{
		{expr: "up", want: []string{"up"}},
		{expr: "a # b c", want: []string{"a"}},
		{expr: `sum by (service, pool, reason) (rate(stratus_steering_answers_total{service=~"$service"}[$__rate_interval]))`,
			want: []string{"stratus_steering_answers_total"}},
		{expr: `sum(rate(x_total[5m])) by (job) / ignoring(code) group_left(le) y_total`, want: []string{"x_total", "y_total"}},
		{expr: `histogram_quantile(0.99, sum by (le, check) (rate(stratus_health_probe_duration_seconds_bucket[${__rate_interval}])))`,
			want: []string{"stratus_health_probe_duration_seconds_bucket"}},
		{expr: `a > bool 1e-3 and on(instance) b unless c offset 5m or d @ start()`, want: []string{"a", "b", "c", "d"}},
		// Label names and values, strings and numbers are no metrics.
		{expr: `label_replace(m{rate="sum", by='x'}, "dst", "$1", "src", "(.*)") * 2.5 + 0x1f`, want: []string{"m"}},
		{expr: `{__name__="named_total", job="x"} + count(other[1m:10s])`, want: []string{"named_total", "other"}},
		{expr: `max by (service) (stratus_steering_failover_active{service=~"[[service]]"}) == 1`, want: []string{"stratus_steering_failover_active"}},
		{expr: `rate(a[1m]`, err: "not closed"},
		{expr: `rate(a[1m]))`, err: "closes nothing"},
		{expr: `rat(a[1m])`, err: "unknown function rat"},
		{expr: `a{job="x}`, err: "unterminated string"},
		{expr: `a{job="x"`, err: "not closed"},
		{expr: `sum by service (a)`, err: "without a label list"},
	} {
		got, err := MetricNames(tc.expr)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("MetricNames(%q) = %v, %v; want an error with %q", tc.expr, got, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("MetricNames(%q) = %v, %v; want %v", tc.expr, got, err, tc.want)
		}
	}
}

// fakeExposition is a small /metrics page: a counter, a gauge and a
// histogram.
const fakeExposition = `# HELP stratus_steering_answers_total Answers.
# TYPE stratus_steering_answers_total counter
stratus_steering_answers_total{pool="primary",reason="healthy",service="api.example."} 12
# TYPE stratus_ready gauge
stratus_ready 1
# TYPE stratus_publish_lag_seconds histogram
stratus_publish_lag_seconds_bucket{le="0.1"} 3
stratus_publish_lag_seconds_bucket{le="+Inf"} 3
stratus_publish_lag_seconds_sum 0.02
stratus_publish_lag_seconds_count 3
`

func TestUnknown(t *testing.T) {
	exposed := ExposedNames(fakeExposition)
	for _, tc := range []struct {
		expr string
		want string // the line reported, "" for none
	}{
		{expr: `sum by (pool) (rate(stratus_steering_answers_total[1m]))`},
		{expr: `stratus_ready == 0 or up == 0`},
		{expr: `histogram_quantile(0.99, sum by (le) (rate(stratus_publish_lag_seconds_bucket[5m])))`},
		{expr: `stratus_publish_lag_seconds_count / stratus_publish_lag_seconds_sum`},
		// A histogram has no series of its bare name.
		{expr: `rate(stratus_publish_lag_seconds[5m])`, want: "stratus_publish_lag_seconds"},
		{expr: `stratus_steering_answer_total + stratus_ready`, want: "stratus_steering_answer_total"},
		{expr: `# HELP`, want: ""},
	} {
		got, err := Unknown([]Expr{{Where: "panel", Expr: tc.expr}}, exposed)
		if tc.expr == "# HELP" {
			if err == nil {
				t.Errorf("Unknown(%q): no error for an expression reading no metric", tc.expr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Unknown(%q): %v", tc.expr, err)
			continue
		}
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("Unknown(%q) = %q, want nothing", tc.expr, got)
		case tc.want != "" && (len(got) != 1 || !strings.HasSuffix(got[0], ": "+tc.want)):
			t.Errorf("Unknown(%q) = %q, want %s reported", tc.expr, got, tc.want)
		}
	}
}

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"service": "api.example.", "__rate_interval": "1m"}
	got, err := Substitute(`rate(a{service=~"$service"}[$__rate_interval]) + b{s="${service}"} + c{s="[[service]]"}`, vars)
	if want := `rate(a{service=~"api.example."}[1m]) + b{s="api.example."} + c{s="api.example."}`; err != nil || got != want {
		t.Errorf("Substitute = %q, %v; want %q", got, err, want)
	}
	if _, err := Substitute(`a[$__range]`, vars); err == nil || !strings.Contains(err.Error(), "__range") {
		t.Errorf("Substitute with an unknown variable: %v", err)
	}
}

// TestDashboardModel: the dashboard is one Grafana can import: a JSON
// model of schema 39 whose panels all query the data source chosen at
// import (${DS_PROMETHEUS}), with unique ids, on a 24-column grid, every
// target an expression and a refId unique in its panel; the service
// variable lists the services that answered; the failover panels exist.
func TestDashboardModel(t *testing.T) {
	doc, err := Files.ReadFile(DashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Inputs []struct {
			Name     string `json:"name"`
			Type     string `json:"type"`
			PluginID string `json:"pluginId"`
		} `json:"__inputs"`
		SchemaVersion int    `json:"schemaVersion"`
		UID           string `json:"uid"`
		Title         string `json:"title"`
		Panels        []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource *struct {
				Type string `json:"type"`
				UID  string `json:"uid"`
			} `json:"datasource"`
			GridPos struct{ H, W, X, Y int } `json:"gridPos"`
			Targets []struct {
				RefID      string `json:"refId"`
				Expr       string `json:"expr"`
				Datasource *struct {
					UID string `json:"uid"`
				} `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name, Type, Definition string
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if d.SchemaVersion != 39 || d.UID != "stratus" || d.Title != "Stratus" {
		t.Errorf("schemaVersion %d, uid %q, title %q", d.SchemaVersion, d.UID, d.Title)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].Type != "datasource" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("__inputs %+v: want the one Prometheus data source DS_PROMETHEUS", d.Inputs)
	}
	ids := map[int]bool{}
	titles := map[string]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("panel %q: id %d repeated or zero", p.Title, p.ID)
		}
		ids[p.ID] = true
		titles[p.Title] = true
		if g := p.GridPos; g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v off the 24-column grid", p.Title, g)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${DS_PROMETHEUS}" {
			t.Errorf("panel %q: data source %+v, want prometheus ${DS_PROMETHEUS}", p.Title, p.Datasource)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("panel %q: refId %q empty or repeated", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			if tg.Datasource == nil || tg.Datasource.UID != "${DS_PROMETHEUS}" {
				t.Errorf("panel %q %s: data source %+v", p.Title, tg.RefID, tg.Datasource)
			}
		}
	}
	for _, want := range []string{"Answers/s by service, pool and reason", "Failover active", "Healthy endpoints per pool", "Failovers started / ended"} {
		if !titles[want] {
			t.Errorf("no panel %q", want)
		}
	}
	if l := d.Templating.List; len(l) != 1 || l[0].Name != "service" || l[0].Definition != "label_values(stratus_steering_answers_total, service)" {
		t.Errorf("templating %+v: want the service variable from label_values(stratus_steering_answers_total, service)", l)
	}
}

// TestExprs: every expression of the dashboard and the rules is read,
// each reads a metric of Stratus or of the scrape, and every metric name
// in them follows stratus_<subsystem>_<name>.
func TestExprs(t *testing.T) {
	exprs, err := Exprs()
	if err != nil {
		t.Fatal(err)
	}
	if len(exprs) < 40 {
		t.Fatalf("%d expressions", len(exprs))
	}
	for _, e := range exprs {
		names, err := MetricNames(e.Expr)
		if err != nil {
			t.Errorf("%s: %v", e.Where, err)
		}
		for _, n := range names {
			if !strings.HasPrefix(n, "stratus_") && !Scraped[n] {
				t.Errorf("%s: %s is not a Stratus metric", e.Where, n)
			}
		}
	}
}

// TestReadmeScrapeConfig: the scrape config README.md shows is the one in
// deploy/prometheus/prometheus.yml.
func TestReadmeScrapeConfig(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```yaml\nscrape_configs:\n")
	if !ok {
		t.Fatal("README.md shows no yaml block starting with scrape_configs:")
	}
	block, _, _ = strings.Cut("scrape_configs:\n"+block, "```")
	file, err := Files.ReadFile(ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	var shown, deployed struct {
		ScrapeConfigs []map[string]any `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(block), &shown); err != nil {
		t.Fatalf("README.md's scrape config: %v", err)
	}
	if err := yaml.Unmarshal(file, &deployed); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shown, deployed) || len(shown.ScrapeConfigs) == 0 {
		t.Errorf("README.md shows the scrape config\n%v\nbut %s has\n%v", shown, ConfigFile, deployed)
	}
}

// FuzzMetricNames: the tokenizer ends on any input without panicking, and
// what it calls a metric is an identifier of the expression.
func FuzzMetricNames(f *testing.F) {
	exprs, err := Exprs()
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range exprs {
		f.Add(e.Expr)
	}
	f.Add(`{__name__="a"} offset -5m @ end() # x`)
	f.Fuzz(func(t *testing.T, expr string) {
		names, err := MetricNames(expr)
		if err != nil {
			return
		}
		for _, n := range names {
			if n == "" || !isIdentStart(n[0]) && !strings.Contains(expr, `"`+n+`"`) || !strings.Contains(expr, n) {
				t.Errorf("MetricNames(%q) names %q", expr, n)
			}
		}
	})
}
