package geo

import (
	"math"
	"testing"
)

func TestDistance(t *testing.T) {
	tests := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want                   float64 // km
	}{
		{"Frankfurt-New York", 50.1109, 8.6821, 40.7128, -74.0060, 6200},
		{"London-Paris", 51.5074, -0.1278, 48.8566, 2.3522, 343.5},
		{"Sydney-Santiago", -33.8688, 151.2093, -33.4489, -70.6693, 11340},
		{"same point", 47.2513, -122.3149, 47.2513, -122.3149, 0},
		{"across the antimeridian", 0, 179, 0, -179, 222.4},
		{"antipodes", 0, 0, 0, 180, math.Pi * earthRadiusKm},
		{"pole to pole", 90, 0, -90, 0, math.Pi * earthRadiusKm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Distance(tt.lat1, tt.lon1, tt.lat2, tt.lon2)
			if math.Abs(got-tt.want) > 0.01*tt.want+1e-9 {
				t.Errorf("Distance = %.1f km, want %.1f km ±1%%", got, tt.want)
			}
			if back := Distance(tt.lat2, tt.lon2, tt.lat1, tt.lon1); math.Abs(back-got) > 1e-6 {
				t.Errorf("not symmetric: %v, %v", got, back)
			}
		})
	}
}
