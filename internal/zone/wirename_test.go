package zone

import "testing"

// TestEqualNames: wire names compare equal ignoring ASCII case only.
func TestEqualNames(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"\x03www\x07example\x03com\x00", "\x03WWW\x07Example\x03COM\x00", true},
		{"\x03www\x07example\x03com\x00", "\x03www\x07example\x03com\x00", true},
		{"\x03www\x07example\x03com\x00", "\x03wwx\x07example\x03com\x00", false},
		{"\x03www\x07example\x03com\x00", "\x07example\x03com\x00", false},
		{"\x01\xc4\x00", "\x01\xe4\x00", false}, // not ASCII: compared as is
		{"\x01[\x00", "\x01{\x00", false},       // beside the letters
		{"\x00", "\x00", true},
	}
	for _, tc := range tests {
		if got := EqualNames([]byte(tc.a), []byte(tc.b)); got != tc.want {
			t.Errorf("EqualNames(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
