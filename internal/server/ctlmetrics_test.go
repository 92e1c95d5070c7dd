package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/config"
)

// TestControlMetricsRegistered: a node registers the control plane's
// metrics on its registry, and an API write shows in them: a commit, the
// revision served with its lag, the request by route.
func TestControlMetricsRegistered(t *testing.T) {
	n, tok, _ := startAPINode(t, config.API{})
	req, _ := http.NewRequest(http.MethodPost, "http://"+n.APIAddr().String()+"/v1/zones", strings.NewReader(`{"name":"m.test.","nameservers":["ns1.example.net."]}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("creating a zone: %s", res.Status)
	}
	mfs, err := n.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{} // a sum over the series, counts of histograms
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()] += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	for _, name := range []string{
		"stratus_store_commit_duration_seconds", "stratus_store_commits_total",
		"stratus_publish_lag_seconds", "stratus_publish_revision",
		"stratus_api_requests_total", "stratus_api_request_duration_seconds",
	} {
		if got[name] == 0 {
			t.Errorf("%s is %v after an API write", name, got[name])
		}
	}
	for _, name := range []string{
		"stratus_publish_reloads_total",
		"stratus_notify_sent_total", "stratus_notify_acked_total", "stratus_notify_retries_total",
		"stratus_xfr_transfers_out_total", "stratus_xfr_transfers_in_total",
	} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s is not registered", name)
		}
	}
}
