package control

import (
	"slices"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
)

// TestSteeredAnswers stores, replaces and clears the steered answers of
// two zones: each change is one serial bump, an unchanged set none, and
// SteeredZones lists the zones that have answers stored.
func TestSteeredAnswers(t *testing.T) {
	e := newEnv(t, Options{})
	a := mustCreate(t, e, "a.test.", model.SerialIncrement)
	b := mustCreate(t, e, "b.test.", model.SerialIncrement)
	zones := func() []model.Name {
		t.Helper()
		zs, err := e.svc.SteeredZones(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return zs
	}
	serial := func(z model.Name) uint32 {
		t.Helper()
		info, err := e.svc.GetZone(ctx, z)
		if err != nil {
			t.Fatal(err)
		}
		return info.Serial
	}
	if zs := zones(); len(zs) != 0 {
		t.Fatalf("steered zones before any: %v", zs)
	}
	s0 := serial(a)
	www := set(t, "www.a.test.", "A", 30, "192.0.2.1", "192.0.2.2")
	if _, err := e.svc.SetSteeredAnswers(ctx, a, []*model.RRset{www}, "steering"); err != nil {
		t.Fatal(err)
	}
	if serial(a) != s0+1 {
		t.Errorf("serial %d after the first answers, want %d", serial(a), s0+1)
	}
	if res, err := e.svc.SetSteeredAnswers(ctx, a, []*model.RRset{www}, "steering"); err != nil || res.Changed {
		t.Fatalf("the same answers again: changed %v, %v", res.Changed, err)
	}
	if serial(a) != s0+1 {
		t.Errorf("an unchanged set bumped the serial to %d", serial(a))
	}
	if _, err := e.svc.SetSteeredAnswers(ctx, b, []*model.RRset{set(t, "api.b.test.", "AAAA", 30, "2001:db8::1")}, "steering"); err != nil {
		t.Fatal(err)
	}
	if zs := zones(); !slices.Equal(zs, []model.Name{a, b}) {
		t.Errorf("steered zones %v, want [%s %s]", zs, a, b)
	}
	if _, err := e.svc.SetSteeredAnswers(ctx, a, nil, "steering"); err != nil {
		t.Fatal(err)
	}
	if zs := zones(); !slices.Equal(zs, []model.Name{b}) {
		t.Errorf("steered zones after clearing %s: %v", a, zs)
	}
	if _, err := e.svc.SetSteeredAnswers(ctx, a, []*model.RRset{set(t, "www.b.test.", "A", 30, "192.0.2.1")}, "steering"); !model.IsValidation(err) {
		t.Errorf("an answer outside the zone: %v", err)
	}
}
