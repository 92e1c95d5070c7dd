package control

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDrillRuns(t *testing.T) {
	e := newEnv(t, Options{})
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for i := range MaxDrillRuns + 5 {
		start := t0.Add(time.Duration(i) * time.Minute)
		if _, err := e.svc.DrillRuns.SaveDrillRun(ctx, DrillRun{Drill: "eu", Started: start, Ended: start.Add(time.Second), Passed: i%2 == 0, Report: []byte(`{"scenario":"eu"}`)}, "ci"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.DrillRuns.SaveDrillRun(ctx, DrillRun{Drill: "us", Started: t0, Ended: t0}, "ci"); err != nil {
		t.Fatal(err)
	}
	runs, err := e.svc.DrillRuns.DrillRuns(ctx, "eu", 0)
	if err != nil || len(runs) != MaxDrillRuns {
		t.Fatalf("%d runs kept, %v", len(runs), err)
	}
	if !runs[0].Started.After(runs[1].Started) || runs[0].Report != nil || runs[0].Actor != "ci" {
		t.Errorf("newest first, without reports: %+v", runs[0])
	}
	if all, _ := e.svc.DrillRuns.DrillRuns(ctx, "", 3); len(all) != 3 {
		t.Errorf("all runs, limit 3: %d", len(all))
	}
	got, err := e.svc.DrillRuns.DrillRun(ctx, runs[0].ID)
	if err != nil || string(got.Report) != `{"scenario":"eu"}` {
		t.Errorf("one run: %+v %v", got, err)
	}
	for _, id := range []string{"eu/1", "eu", "../x/1", runs[0].ID + "0"} {
		if _, err := e.svc.DrillRuns.DrillRun(ctx, id); !errors.Is(err, ErrDrillRunNotFound) {
			t.Errorf("%q: %v", id, err)
		}
	}
	for _, tc := range []struct {
		run  DrillRun
		want string
	}{
		{DrillRun{Drill: "a/b", Started: t0, Ended: t0}, "drill: "},
		{DrillRun{Drill: "eu", Ended: t0}, "started: "},
		{DrillRun{Drill: "eu", Started: t0, Ended: t0.Add(-time.Second)}, "started: "},
		{DrillRun{Drill: "eu", Started: t0, Ended: t0, Report: []byte("{")}, "report: not valid JSON"},
	} {
		if _, err := e.svc.DrillRuns.SaveDrillRun(ctx, tc.run, "ci"); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.run, err, tc.want)
		}
	}
}
