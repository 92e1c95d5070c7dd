package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/deploy"
	"github.com/stratusdns/stratus/internal/testutil"
)

// TestDashboardInPrometheus: the deploy files work in a real Prometheus.
// promtool accepts the scrape config and the alerting rules; a Prometheus
// scraping a stratus every second, with those rules loaded, sees a
// failover happen (a service's primary endpoint stopped: failover active,
// answers from the backup pool rising, the primary's falling to zero) and
// its alert pending; then every expression of the Grafana dashboard and
// of the rules, with the dashboard's variables set as Grafana sets them,
// is accepted by Prometheus's query API, and the ones with no result are
// named. A screenshot of Prometheus's graph of the answers by pool across
// the failover is saved (in $STRATUS_ARTIFACTS, else the temporary
// directory).
func TestDashboardInPrometheus(t *testing.T) {
	prometheus := testutil.Tool(t, "prometheus")
	promtool := testutil.Tool(t, "promtool")
	root, err := filepath.Abs("../../deploy")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"check", "config", filepath.Join(root, deploy.ConfigFile)},
		{"check", "rules", filepath.Join(root, deploy.AlertsFile)},
	} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	// A stratus with a failover service: a primary and a backup pool of
	// one HTTP endpoint each.
	const svc = "api.fn.example.com"
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	hs, port := steerHTTPGroup(t, "127.0.0.2", "127.0.0.3")
	check := fmt.Sprintf(`{"type": "http", "path": "/healthz", "port": %d, "interval": "1s", "fall": 2, "rise": 2}`, port)
	steerService(t, s, fmt.Sprintf(`{"name": %q, "policy": "failover", "pools": [
		{"name": "primary", "priority": 1, "check": %s},
		{"name": "backup", "priority": 2, "check": %s}]}`, svc, check, check))
	steerEndpoint(t, s, svc, "p1", `{"id": "p1", "pool": "primary", "address": "127.0.0.2"}`)
	steerEndpoint(t, s, svc, "b1", `{"id": "b1", "pool": "backup", "address": "127.0.0.3"}`)
	steerWaitA(t, s, svc, "127.0.0.2", 60*time.Second)
	if status, answer, _ := steerDigParse(t, steerDig(t, s, svc, "A")); status != "NOERROR" || len(answer) != 1 || !strings.HasSuffix(answer[0], "IN A 127.0.0.2") {
		t.Fatalf("dig A %s = %s %q, want the primary 127.0.0.2", svc, status, answer)
	}

	// Clients asking all along, twenty queries a second over UDP (under
	// the rate limit) and a few over TCP.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			m := new(dns.Msg)
			m.SetQuestion(svc+".", dns.TypeA)
			c := &dns.Client{Timeout: time.Second}
			if i%10 == 0 {
				c.Net = "tcp"
			}
			c.Exchange(m, s.dnsAddr)
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })

	// Prometheus scraping it every second, with the alerting rules.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: stratus
    metrics_path: /metrics
    static_configs:
      - targets: [%q]
`, filepath.Join(root, deploy.AlertsFile), s.apiAddr), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := startPrometheus(t, prometheus, cfg, filepath.Join(dir, "data"))

	// The service as the dashboard's variable finds it.
	var service string
	steerWait(t, 60*time.Second, "Prometheus scrapes the service's answers", func() (bool, string) {
		v, err := prom.query(`stratus_steering_answers_total{pool="primary"}`)
		if err != nil || len(v) == 0 {
			up, _ := prom.query(`up{job="stratus"}`)
			return false, fmt.Sprint("no series ", err, "; the scrape's up: ", up)
		}
		service = v[0].Metric["service"]
		return strings.HasPrefix(service, svc), fmt.Sprint(v)
	})
	sel := fmt.Sprintf(`service=%q`, service)
	// Ten scrapes of the primary's answers before the failover, so the
	// graph shows both sides of it.
	steerWait(t, 60*time.Second, "ten scrapes of answers from the primary", func() (bool, string) {
		v, err := prom.query(`sum(count_over_time(stratus_steering_answers_total{` + sel + `,pool="primary"}[1m])) >= 10`)
		return err == nil && len(v) == 1, fmt.Sprint(v, err)
	})

	hs["127.0.0.2"].Stop()
	start := time.Now()
	steerWait(t, 60*time.Second, "Prometheus sees the failover", func() (bool, string) {
		active, err := prom.query(`max(stratus_steering_failover_active{` + sel + `}) == 1`)
		if err != nil || len(active) == 0 {
			return false, fmt.Sprint("failover_active: ", active, err)
		}
		backup, err := prom.query(`sum(increase(stratus_steering_answers_total{` + sel + `,pool="backup",reason="fallback"}[30s])) > 0`)
		return err == nil && len(backup) == 1, fmt.Sprint("backup answers: ", backup, err)
	})
	t.Logf("failover seen by Prometheus %v after the primary stopped", time.Since(start).Round(time.Second))
	// The alerting rules are loaded and evaluated: the failover's alert is
	// pending (it fires after a minute).
	steerWait(t, 60*time.Second, "the StratusFailoverActive alert pending or firing", func() (bool, string) {
		v, err := prom.query(`ALERTS{alertname="StratusFailoverActive",` + sel + `}`)
		return err == nil && len(v) == 1, fmt.Sprint(v, err)
	})
	steerWait(t, 60*time.Second, "the primary's answers fall to zero, the backup's keep rising", func() (bool, string) {
		v, err := prom.query(`sum by (pool) (rate(stratus_steering_answers_total{` + sel + `}[5s]))`)
		if err != nil {
			return false, err.Error()
		}
		rates := map[string]string{}
		for _, r := range v {
			rates[r.Metric["pool"]] = r.Value[1].(string)
		}
		return rates["primary"] == "0" && rates["backup"] != "" && rates["backup"] != "0", fmt.Sprint(rates)
	})
	steerWait(t, 60*time.Second, "ten scrapes of the failover", func() (bool, string) {
		v, err := prom.query(`sum(count_over_time((stratus_steering_failover_active{` + sel + `} == 1)[1m:1s])) >= 10`)
		return err == nil && len(v) == 1, fmt.Sprint(v, err)
	})

	// Every expression, with the variables Grafana would set.
	exprs, err := deploy.Exprs()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"__rate_interval": "1m", "service": regexpQuote(service)}
	var empty []string
	for _, e := range exprs {
		q, err := deploy.Substitute(e.Expr, vars)
		if err != nil {
			t.Errorf("%s: %v", e.Where, err)
			continue
		}
		v, err := prom.query(q)
		switch {
		case err != nil:
			t.Errorf("%s: Prometheus refuses %s: %v", e.Where, q, err)
		case len(v) == 0:
			empty = append(empty, e.Where)
		}
	}
	t.Logf("%d expressions evaluated; %d with no result now: %s", len(exprs), len(empty), strings.Join(empty, "; "))
	for _, must := range []string{`panel "Answers/s by service, pool and reason" A`, `panel "Failover active" A`, `panel "Healthy endpoints per pool" A`, `alert StratusFailoverActive`} {
		for _, e := range empty {
			if e == must {
				t.Errorf("%s has no result during a failover", must)
			}
		}
	}

	// The graph a person looks at.
	graph := prom.base + "/graph?" + url.Values{
		"g0.expr":        {`sum by (pool, reason) (rate(stratus_steering_answers_total{` + sel + `}[5s]))`},
		"g0.tab":         {"0"},
		"g0.range_input": {"1m"},
	}.Encode()
	prometheusScreenshot(t, graph, "prometheus-failover.png")
}

// regexpQuote escapes the dots of a label value for =~, as Grafana does
// for a variable's value in a regular expression.
func regexpQuote(v string) string { return strings.ReplaceAll(v, ".", `\\.`) }

// promServer is a running Prometheus.
type promServer struct {
	base string // http://127.0.0.1:port
}

// promSample is one series of an instant vector.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"` // [time, "value"]
}

// startPrometheus starts prometheus with config cfg and its storage in
// data on a free loopback port, waits until it is ready, and stops it
// when the test ends.
func startPrometheus(t *testing.T, bin, cfg, data string) *promServer {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+data, "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	p := &promServer{base: "http://" + addr}
	steerWait(t, 60*time.Second, "prometheus ready", func() (bool, string) {
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", logs.String())
		default:
		}
		res, err := http.Get(p.base + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK, res.Status
	})
	return p
}

// query evaluates an instant query through /api/v1/query; a query
// Prometheus refuses (400: a PromQL error) is an error naming why.
func (p *promServer) query(q string) ([]promSample, error) {
	res, err := http.PostForm(p.base+"/api/v1/query", url.Values{"query": {q}})
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s: %.200s", res.Status, body)
	}
	if res.StatusCode != http.StatusOK || r.Status != "success" {
		return nil, fmt.Errorf("%s: %s: %s", res.Status, r.ErrorType, r.Error)
	}
	switch r.Data.ResultType {
	case "vector":
		var v []promSample
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			return nil, err
		}
		return v, nil
	case "scalar":
		var v []any
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			return nil, err
		}
		return []promSample{{Value: v}}, nil
	}
	return nil, fmt.Errorf("result type %s", r.Data.ResultType)
}

// prometheusScreenshot opens page in headless Chromium, waits until the
// graph is drawn, checks it has two lines at least, and saves a screenshot as name in $STRATUS_ARTIFACTS
// (else the temporary directory).
func prometheusScreenshot(t *testing.T, page, name string) {
	t.Helper()
	chromium := testutil.Tool(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(1300, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(".graph svg path"))); err != nil {
		t.Fatalf("prometheus graph page: %v", err)
	}
	// One line per pool: the primary's and the backup's.
	lines, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".graph svg path").length`))
	if err != nil {
		t.Fatal(err)
	}
	if lines < 2 {
		t.Errorf("the graph draws %d lines, want one per pool", lines)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := os.Getenv("STRATUS_ARTIFACTS")
	if out == "" {
		out = os.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(out, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
