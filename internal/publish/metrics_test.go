package publish_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
)

// hourAgo is a store that says every revision was committed an hour ago.
type hourAgo struct{ store.Store }

func (hourAgo) CommitTime(store.Revision) (time.Time, bool) { return time.Now().Add(-time.Hour), true }

// lag returns the count and sum of stratus_publish_lag_seconds.
func lag(t *testing.T, reg *prometheus.Registry) (uint64, float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "stratus_publish_lag_seconds" {
			var h *dto.Histogram = mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	t.Fatal("no stratus_publish_lag_seconds")
	return 0, 0
}

// TestPublishMetrics: a write through the control plane (as the API
// makes) is served and its lag observed from its commit, the revision
// served is exported, and a full load after the first counts a reload.
func TestPublishMetrics(t *testing.T) {
	for _, tc := range []struct {
		name     string
		wrap     func(store.Store, prometheus.Registerer) store.Store
		minLag   float64 // seconds the lag of each revision is at least
		maxLag   float64
		reloaded bool
	}{
		{"instrumented", store.Instrument, 0, 60, true},
		{"committed an hour ago", func(st store.Store, _ prometheus.Registerer) store.Store { return hourAgo{st} }, 3599, 3660, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			reg := prometheus.NewPedanticRegistry()
			st := tc.wrap(raw, reg)
			pub := publish.New(st, nil)
			pub.SetMetrics(reg)
			c, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); pub.Run(c) }()
			defer func() { cancel(); <-done }()
			<-pub.Ready()
			if n, _ := lag(t, reg); n != 0 {
				t.Fatalf("%d lags observed before any write", n)
			}
			plane := control.New(st, pub, control.Options{})
			controltest.CreateZone(t, plane, "example.com.") // waits until served
			n, sum := lag(t, reg)
			if n == 0 {
				t.Fatal("no lag observed for the write")
			}
			if avg := sum / float64(n); avg < tc.minLag || avg > tc.maxLag {
				t.Errorf("lag %.3fs on average, want between %vs and %vs", avg, tc.minLag, tc.maxLag)
			}
			rev := pub.Revision()
			if rev == 0 {
				t.Fatal("nothing published")
			}
			if got := testutil.ToFloat64(gauge(t, reg, "stratus_publish_revision")); got != float64(rev) {
				t.Errorf("stratus_publish_revision = %v, want %d", got, rev)
			}
			if tc.reloaded {
				if _, err := publish.Load(context.Background(), pub); err != nil {
					t.Fatal(err)
				}
				want := "# HELP stratus_publish_reloads_total Full loads of the store after the first: the publisher fell behind the store's history, its watch failed or was restarted.\n# TYPE stratus_publish_reloads_total counter\nstratus_publish_reloads_total 1\n"
				if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stratus_publish_reloads_total"); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// gauge returns the value of the unlabelled metric name as a collector
// ToFloat64 reads.
func gauge(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "v"})
			g.Set(mf.GetMetric()[0].GetGauge().GetValue())
			return g
		}
	}
	t.Fatalf("no %s", name)
	return nil
}
