package steerctl

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
)

// benchServices returns n services of two pools with two push-checked
// endpoints each, created at now.
func benchServices(n int, now time.Time) ([]*model.Service, []*model.Endpoint) {
	var svcs []*model.Service
	var eps []*model.Endpoint
	for i := range n {
		name := model.Name(fmt.Sprintf("s%d.example.com.", i))
		s := &model.Service{Name: name, Zone: "example.com.", Pools: []model.Pool{
			{Name: "p1", Check: model.CheckSpec{Type: model.CheckPush}},
			{Name: "p2", Check: model.CheckSpec{Type: model.CheckPush}},
		}}
		s.Normalize()
		svcs = append(svcs, s)
		for j := range 4 {
			e := &model.Endpoint{Service: name, ID: fmt.Sprint("e", j), Pool: fmt.Sprint("p", j/2+1),
				Address: fmt.Sprintf("10.%d.%d.%d", i>>8&0xff, i&0xff, j+1), Created: now, Renewed: now}
			e.Normalize()
			eps = append(eps, e)
		}
	}
	return svcs, eps
}

// BenchmarkHealthChangeToSnapshot measures the time from a push report
// that changes one endpoint's state to the steering snapshot that has
// it: the checker's state change, its OnChange notification, the
// controller's recompilation and the swap of the snapshot pointer.
func BenchmarkHealthChangeToSnapshot(b *testing.B) {
	for _, n := range []int{1, 100, 5000} {
		b.Run(fmt.Sprint("services=", n), func(b *testing.B) {
			var c *Controller
			checker := health.New(health.Options{OnChange: benchOnChange(&c)})
			defer checker.Close()
			c = New(checker, Options{})
			defer benchClose(c)
			c.ResetServices(benchServices(n, time.Now()))
			key := "s0.example.com.|e0"
			b.ResetTimer()
			for i := range b.N {
				before := c.Snapshots().Load()
				ch := c.changes()
				if err := checker.Push(key, i%2 == 0, "bench"); err != nil {
					b.Fatal(err)
				}
				<-ch
				if c.Snapshots().Load() == before {
					b.Fatal("the snapshot did not change")
				}
			}
		})
	}
}

// benchOnChange wires a checker's notification to the controller *c.
func benchOnChange(c **Controller) func(context.Context, []string) {
	return func(ctx context.Context, keys []string) { (*c).HealthChanged(ctx, keys) }
}

// benchClose stops what the controller started.
func benchClose(c *Controller) { c.Close() }
