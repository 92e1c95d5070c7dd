package server

import (
	"context"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/webhook"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// newAlerts returns the node's alert sink, the webhook dispatcher: alerts
// emitted before the store is open are queued until startWebhooks.
func (s *Node) newAlerts() alert.Sink {
	node, _ := s.cfg.Cluster.NodeName() // an error stops Start a moment later
	s.webhooks = webhook.New(webhook.Options{
		Node:       node,
		Clock:      clock.Real(),
		MaxAge:     s.cfg.Alerts.WebhookMaxAge,
		MaxPending: s.cfg.Alerts.WebhookMaxPending,
		Registerer: s.metrics,
		Logger:     s.log.With("component", "webhook"),
	})
	return s.webhooks
}

// startWebhooks writes the queued alerts to the outbox for the node's
// lifetime, and delivers the outbox while the node leads: a new leader,
// or the node started again, goes on with what is left in it.
func (s *Node) startWebhooks(bg context.Context) {
	s.bgDone.Add(1)
	go func() { defer s.bgDone.Done(); s.webhooks.Run(bg, s.plane.Webhooks) }()
	s.cluster.WhileLeading("webhooks", s.webhooks.Lead)
}

// webhookTester sends test alerts for the API.
type webhookTester struct{ d *webhook.Dispatcher }

func (w webhookTester) TestWebhook(ctx context.Context, name string) (apiv1.WebhookTestResult, error) {
	r, err := w.d.Test(ctx, name)
	return apiv1.WebhookTestResult{Delivery: r.Delivery, Status: r.Status, OK: r.OK, Error: r.Error}, err
}
