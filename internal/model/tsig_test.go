package model

import (
	"strings"
	"testing"
)

func TestNewTSIGKey(t *testing.T) {
	for _, tc := range []struct {
		name, alg, secret string
		wantAlg           string
		wantLen           int
		err               string
	}{
		{name: "xfr.example.", wantAlg: "hmac-sha256", wantLen: 32},
		{name: "xfr", alg: "HMAC-SHA512.", wantAlg: "hmac-sha512", wantLen: 64},
		{name: "old", alg: "hmac-sha1", wantAlg: "hmac-sha1", wantLen: 20},
		{name: "given", secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQ=", wantAlg: "hmac-sha256", wantLen: 20},
		{name: "", err: "name: "},
		{name: "bad..name", err: "name: "},
		{name: "k", alg: "hmac-md5", err: `algorithm: unknown algorithm "hmac-md5"`},
		{name: "k", secret: "not base64!", err: "secret: not base64"},
		{name: "k", secret: "c2hvcnQ=", err: "secret: 5 bytes; want 16 to 512"},
	} {
		k, err := NewTSIGKey(tc.name, tc.alg, tc.secret)
		if tc.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) || !IsValidation(err) {
				t.Errorf("%q/%q/%q: err %v, want %q", tc.name, tc.alg, tc.secret, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.name, err)
			continue
		}
		if k.Algorithm != tc.wantAlg || len(k.Secret) != tc.wantLen {
			t.Errorf("%q: %s with %d bytes, want %s with %d", tc.name, k.Algorithm, len(k.Secret), tc.wantAlg, tc.wantLen)
		}
	}
	a, _ := NewTSIGKey("a", "", "")
	b, _ := NewTSIGKey("a", "", "")
	if a.SecretBase64() == b.SecretBase64() {
		t.Error("two generated secrets are equal")
	}
}
