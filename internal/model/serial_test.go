package model

import (
	"testing"
	"time"
)

func TestSerialArithmetic(t *testing.T) {
	tests := []struct {
		a, b uint32
		less bool
	}{
		{1, 2, true}, {2, 1, false}, {5, 5, false},
		{0xFFFFFFFF, 0, true}, {0xFFFFFFFF, 5, true}, // wraps forward
		{0, 0x7FFFFFFF, true}, {0, 0x80000001, false},
	}
	for _, tc := range tests {
		if got := SerialLess(tc.a, tc.b); got != tc.less {
			t.Errorf("SerialLess(%d, %d) = %v", tc.a, tc.b, got)
		}
	}
	if LaterSerial(7, 9) != 9 || LaterSerial(9, 7) != 9 || LaterSerial(0xFFFFFFF0, 3) != 3 {
		t.Error("LaterSerial")
	}
}

func TestNextSerial(t *testing.T) {
	day := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	tests := []struct {
		p    SerialPolicy
		cur  uint32
		want uint32
	}{
		{SerialIncrement, 1, 2},
		{SerialIncrement, 0xFFFFFFFF, 1}, // skips 0
		{SerialDate, 1, 2026112600},
		{SerialDate, 2026112600, 2026112601},
		{SerialDate, 2026112599, 2026112600},
		{SerialDate, 2026112699, 2026112700}, // counter exhausted: increments on
		{SerialDate, 2030010100, 2030010101}, // ahead of today: increments
	}
	for _, tc := range tests {
		if got := NextSerial(tc.p, tc.cur, day); got != tc.want {
			t.Errorf("NextSerial(%s, %d) = %d, want %d", tc.p, tc.cur, got, tc.want)
		}
	}
	if _, err := ParseSerialPolicy("weekly"); err == nil {
		t.Error("unknown policy accepted")
	}
}
