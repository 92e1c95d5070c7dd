package config

import (
	"fmt"
	"time"
)

// Alerts configures the delivery of alerts to webhooks (the webhooks
// themselves are managed through the API: stratus webhook).
type Alerts struct {
	// WebhookMaxAge: a delivery not accepted this long after its alert is
	// given up (default 24h).
	WebhookMaxAge time.Duration `yaml:"webhook_max_age"`
	// WebhookMaxPending bounds the deliveries pending to one webhook:
	// beyond it new alerts for the webhook are dropped and counted
	// (default 10000).
	WebhookMaxPending int `yaml:"webhook_max_pending"`
}

// MinWebhookMaxAge is the shortest alerts.webhook_max_age.
const MinWebhookMaxAge = time.Minute

func (a *Alerts) check() error {
	if m := a.WebhookMaxAge; m != 0 && m < MinWebhookMaxAge {
		return fmt.Errorf("alerts.webhook_max_age: %v is shorter than %v", m, MinWebhookMaxAge)
	}
	if n := a.WebhookMaxPending; n < 0 {
		return fmt.Errorf("alerts.webhook_max_pending: %d is negative (0 means the default, 10000)", n)
	}
	return nil
}

func init() { sections["Alerts"] = "alerts." }
