package auth

import (
	"errors"
	"testing"
	"time"
)

// TestOutlives: a principal that expires grants only expiries no later
// than its own; one without an expiry grants any, never included.
func TestOutlives(t *testing.T) {
	at := time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		by      time.Time
		expires time.Time
		refused bool
	}{
		{"local grants never", time.Time{}, time.Time{}, false},
		{"local grants an expiry", time.Time{}, at.Add(time.Hour), false},
		{"expiring grants earlier", at, at.Add(-time.Minute), false},
		{"expiring grants the same", at, at, false},
		{"expiring refuses never", at, time.Time{}, true},
		{"expiring refuses later", at, at.Add(time.Nanosecond), true},
	}
	for _, tc := range tests {
		p := &Principal{Name: "temp", Scopes: []string{ScopeTokens}, Expires: tc.by}
		err := p.Outlives(tc.expires)
		var oe *OutlivesError
		if tc.refused != errors.As(err, &oe) || (err != nil && !tc.refused) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if oe != nil && (oe.Token != "temp" || !oe.Expires.Equal(at) || !oe.Wants.Equal(tc.expires)) {
			t.Errorf("%s: %+v", tc.name, oe)
		}
	}
	if err := Local("op").Outlives(time.Time{}); err != nil {
		t.Errorf("the local operator: %v", err)
	}
}
