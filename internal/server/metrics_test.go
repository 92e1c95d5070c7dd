package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/testutil"
)

// startMetricsNode starts a node on loopback with the metrics section m
// and returns it with its admin token.
func startMetricsNode(t *testing.T, m config.Metrics) (*Node, string) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DNS.Listen = []string{"127.0.0.1:0"}
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Metrics = m
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n := New(cfg, Options{}, NewLogger(&testutil.LogBuffer{}, config.Log{Level: "info"}))
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown(t.Context()) })
	tok, err := os.ReadFile(filepath.Join(cfg.DataDir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return n, strings.TrimSpace(string(tok))
}

// apiDo sends a request to the node's API with the token tok (none when
// empty) and returns the status and body.
func apiDo(t *testing.T, n *Node, method, path, tok, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+n.APIAddr().String()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// scrape GETs url and returns the samples of the text exposition format
// by series, as written ("name{label="value",...}").
func scrape(t *testing.T, url string) (map[string]float64, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, res.Status, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET %s: Content-Type %q", url, ct)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out, body
}

const metricsZone = `$ORIGIN metrics.test.
$TTL 300
@    SOA ns1 hostmaster 1 3600 600 1209600 60
@    NS  ns1
ns1  A   127.0.0.1
www  A   192.0.2.1
`

// bigTXT is an RRset too large for 512 octets.
func bigTXT() string {
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "big TXT \"a text record long enough to need TCP soon %d\"\n", i)
	}
	return b.String()
}

// TestMetricsScrape: a node answers real queries over UDP and TCP and
// /metrics, scraped over HTTP without a token, counts each of them: by
// zone, query type, rcode and transport, the truncated one, the sizes,
// and no TCP connection left open.
func TestMetricsScrape(t *testing.T) {
	n, tok := startMetricsNode(t, config.Metrics{})
	if code, body := apiDo(t, n, http.MethodPut, "/v1/zones/metrics.test./zonefile", tok, "text/dns", metricsZone+bigTXT()); code/100 != 2 {
		t.Fatalf("creating the zone: %d %s", code, body)
	}
	dnsAddr := n.DNSAddrs()[0].String()
	ask := func(net, name string, qtype uint16, wantRcode int, wantTC bool) {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		r, _, err := (&dns.Client{Net: net, Timeout: 10 * time.Second}).Exchange(m, dnsAddr)
		if err != nil {
			t.Fatalf("%s %s: %v", net, name, err)
		}
		if r.Rcode != wantRcode || r.Truncated != wantTC {
			t.Fatalf("%s %s: rcode %s TC %v, want %s TC %v", net, name, dns.RcodeToString[r.Rcode], r.Truncated, dns.RcodeToString[wantRcode], wantTC)
		}
	}
	ask("udp", "www.metrics.test.", dns.TypeA, dns.RcodeSuccess, false)
	ask("udp", "WWW.metrics.test.", dns.TypeA, dns.RcodeSuccess, false)
	ask("udp", "nope.metrics.test.", dns.TypeA, dns.RcodeNameError, false)
	ask("udp", "www.metrics.test.", dns.TypeMX, dns.RcodeSuccess, false)
	ask("udp", "www.elsewhere.invalid.", dns.TypeA, dns.RcodeRefused, false)
	ask("udp", "big.metrics.test.", dns.TypeTXT, dns.RcodeSuccess, true)
	ask("tcp", "big.metrics.test.", dns.TypeTXT, dns.RcodeSuccess, false)
	ask("tcp", "www.metrics.test.", dns.TypeAAAA, dns.RcodeSuccess, false)

	url := "http://" + n.APIAddr().String() + "/metrics"
	var got map[string]float64
	deadline := time.Now().Add(60 * time.Second)
	for {
		// The client has closed its TCP connections; the server sees it
		// soon after.
		got, _ = scrape(t, url)
		if got["stratus_dns_tcp_connections"] == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	want := map[string]float64{
		`stratus_dns_queries_total{qtype="A",rcode="NOERROR",transport="udp",zone="metrics.test."}`:    2,
		`stratus_dns_queries_total{qtype="A",rcode="NXDOMAIN",transport="udp",zone="metrics.test."}`:   1,
		`stratus_dns_queries_total{qtype="MX",rcode="NOERROR",transport="udp",zone="metrics.test."}`:   1,
		`stratus_dns_queries_total{qtype="A",rcode="REFUSED",transport="udp",zone=""}`:                 1,
		`stratus_dns_queries_total{qtype="TXT",rcode="NOERROR",transport="udp",zone="metrics.test."}`:  1,
		`stratus_dns_queries_total{qtype="TXT",rcode="NOERROR",transport="tcp",zone="metrics.test."}`:  1,
		`stratus_dns_queries_total{qtype="AAAA",rcode="NOERROR",transport="tcp",zone="metrics.test."}`: 1,
		`stratus_dns_truncated_responses_total{transport="udp"}`:                                       1,
		`stratus_dns_truncated_responses_total{transport="tcp"}`:                                       0,
		`stratus_dns_response_size_bytes_count{transport="udp"}`:                                       6,
		`stratus_dns_response_size_bytes_count{transport="tcp"}`:                                       2,
		`stratus_dns_response_size_bytes_bucket{transport="udp",le="512"}`:                             6,
		`stratus_dns_response_size_bytes_bucket{transport="tcp",le="512"}`:                             1,
		`stratus_dns_response_size_bytes_bucket{transport="tcp",le="+Inf"}`:                            2,
		`stratus_dns_handed_over_total{kind="axfr"}`:                                                   0,
		`stratus_dns_rrl_responses_total{action="dropped"}`:                                            0,
		`stratus_dns_tcp_connections`:                                                                  0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	var queries float64
	for k, v := range got {
		if strings.HasPrefix(k, "stratus_dns_queries_total{") {
			queries += v
		}
	}
	if queries != 8 {
		t.Errorf("%v queries counted in all, want 8", queries)
	}
}

// TestMetricsLint: everything a running node exports passes promlint,
// after it has answered queries of every kind it counts.
func TestMetricsLint(t *testing.T) {
	n, _ := startMetricsNode(t, config.Metrics{})
	m := new(dns.Msg)
	m.SetQuestion("www.example.invalid.", dns.TypeA)
	for _, net := range []string{"udp", "tcp"} {
		if _, _, err := (&dns.Client{Net: net, Timeout: 10 * time.Second}).Exchange(m, n.DNSAddrs()[0].String()); err != nil {
			t.Fatal(err)
		}
	}
	_, body := scrape(t, "http://"+n.APIAddr().String()+"/metrics")
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	for _, family := range []string{"stratus_build_info", "stratus_dns_queries_total", "stratus_dns_tcp_connections", "stratus_dns_response_size_bytes", "go_goroutines", "process_cpu_seconds_total", "promhttp_metric_handler_errors_total"} {
		if !bytes.Contains(body, []byte("\n# TYPE "+family+" ")) {
			t.Errorf("%s is not exported", family)
		}
	}
}

// TestMetricsRequireToken: with metrics.require_token, /metrics answers
// 401 without a token, 403 to a token without metrics:read, and 200 to
// one with it (or with *).
func TestMetricsRequireToken(t *testing.T) {
	n, admin := startMetricsNode(t, config.Metrics{RequireToken: true})
	token := func(scope string) string {
		t.Helper()
		code, body := apiDo(t, n, http.MethodPost, "/v1/tokens", admin, "application/json", `{"name":"t-`+strings.ReplaceAll(scope, ":", "-")+`","scopes":["`+scope+`"]}`)
		if code != http.StatusCreated {
			t.Fatalf("creating a token with %s: %d %s", scope, code, body)
		}
		var created struct{ Token string }
		if err := json.Unmarshal([]byte(body), &created); err != nil || created.Token == "" {
			t.Fatalf("no token in %s (%v)", body, err)
		}
		return created.Token
	}
	for _, tc := range []struct {
		name, tok string
		want      int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"a wrong token", "stratus_000000000000_wrong", http.StatusUnauthorized},
		{"zones:read", token("zones:read"), http.StatusForbidden},
		{"metrics:read", token("metrics:read"), http.StatusOK},
		{"admin", admin, http.StatusOK},
	} {
		code, body := apiDo(t, n, http.MethodGet, "/metrics", tc.tok, "", "")
		if code != tc.want {
			t.Errorf("%s: %d, want %d\n%.300s", tc.name, code, tc.want, body)
		}
		if code == http.StatusOK && !strings.Contains(body, "stratus_build_info") {
			t.Errorf("%s: no metrics in\n%.300s", tc.name, body)
		}
		if code == http.StatusForbidden && !strings.Contains(body, "metrics:read") {
			t.Errorf("%s: the refusal does not name the scope: %s", tc.name, body)
		}
	}
}

// TestMetricsPathAndListener: metrics.path moves the metrics on the API
// listener; metrics.listen serves them, at that path and nothing else,
// on a listener of its own without a token; with metrics.enabled false
// neither serves them.
func TestMetricsPathAndListener(t *testing.T) {
	free := freeAddr(t)
	n, _ := startMetricsNode(t, config.Metrics{Path: "/internal/metrics", Listen: free, RequireToken: true})
	if n.MetricsAddr() == nil || n.MetricsAddr().String() != free {
		t.Fatalf("metrics listener at %v, want %s", n.MetricsAddr(), free)
	}
	got, _ := scrape(t, "http://"+free+"/internal/metrics")
	if got[`stratus_dns_tcp_connections`] != 0 || len(got) < 10 {
		t.Errorf("own listener: %d samples", len(got))
	}
	for _, path := range []string{"/metrics", "/v1/status", "/"} {
		res, err := http.Get("http://" + free + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("own listener %s: %s, want 404", path, res.Status)
		}
	}
	if code, _ := apiDo(t, n, http.MethodGet, "/metrics", "", "", ""); code != http.StatusNotFound {
		t.Errorf("API /metrics with path moved: %d, want 404", code)
	}
	if code, _ := apiDo(t, n, http.MethodGet, "/internal/metrics", "", "", ""); code != http.StatusUnauthorized {
		t.Errorf("API /internal/metrics without a token: %d, want 401", code)
	}

	off := false
	n2, _ := startMetricsNode(t, config.Metrics{Enabled: &off, Listen: freeAddr(t)})
	if n2.MetricsAddr() != nil {
		t.Errorf("metrics off, but listening at %v", n2.MetricsAddr())
	}
	code, body := apiDo(t, n2, http.MethodGet, "/metrics", "", "", "")
	if code != http.StatusNotFound || !strings.Contains(body, "metrics.enabled: false") {
		t.Errorf("metrics off: %d %s", code, body)
	}
	m := new(dns.Msg)
	m.SetQuestion("www.example.invalid.", dns.TypeA)
	if _, _, err := new(dns.Client).Exchange(m, n2.DNSAddrs()[0].String()); err != nil {
		t.Fatal(err)
	}
	if st := n2.dns.Stats(); len(st.Queries) != 0 {
		t.Errorf("metrics off, but the query path counted: %+v", st)
	}
}

// freeAddr returns a loopback address with a port free just now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
