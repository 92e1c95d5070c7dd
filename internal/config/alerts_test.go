package config

import (
	"strings"
	"testing"
	"time"
)

func TestAlerts(t *testing.T) {
	c, err := Parse("stratus.yaml", []byte("alerts:\n  webhook_max_age: 6h\n  webhook_max_pending: 500\n"))
	if err != nil || c.Alerts.WebhookMaxAge != 6*time.Hour || c.Alerts.WebhookMaxPending != 500 {
		t.Fatalf("parsed %+v, %v", c.Alerts, err)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"alerts:\n  webhook_max_age: 10s\n", "alerts.webhook_max_age: 10s is shorter than 1m0s"},
		{"alerts:\n  webhook_max_age: -1h\n", "alerts.webhook_max_age: -1h0m0s is shorter than 1m0s"},
		{"alerts:\n  webhook_max_pending: -1\n", "alerts.webhook_max_pending: -1 is negative"},
		{"alerts:\n  webhooks: []\n", `unknown key "alerts.webhooks"`},
	} {
		if _, err := Parse("stratus.yaml", []byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
