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
}

// MinWebhookMaxAge is the shortest alerts.webhook_max_age.
const MinWebhookMaxAge = time.Minute

func (a *Alerts) check() error {
	if m := a.WebhookMaxAge; m != 0 && m < MinWebhookMaxAge {
		return fmt.Errorf("alerts.webhook_max_age: %v is shorter than %v", m, MinWebhookMaxAge)
	}
	return nil
}

func init() { sections["Alerts"] = "alerts." }
