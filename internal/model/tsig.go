package model

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// TSIG algorithms (RFC 8945) a key may use. hmac-sha1 is accepted for
// older peers; hmac-sha256 is the default.
const (
	TSIGHmacSHA256 = "hmac-sha256"
	TSIGHmacSHA512 = "hmac-sha512"
	TSIGHmacSHA1   = "hmac-sha1"
)

// TSIGAlgorithms lists the algorithms a key may use, the default first.
var TSIGAlgorithms = []string{TSIGHmacSHA256, TSIGHmacSHA512, TSIGHmacSHA1}

// Secret lengths: a generated secret is as long as the algorithm's digest
// (RFC 8945 section 6); a given one may be shorter down to 16 bytes, the
// shortest that BIND's and Knot's tools produce, and no longer than 512.
const (
	MinTSIGSecret = 16
	MaxTSIGSecret = 512
)

// TSIGKey is a shared secret that signs zone transfers, NOTIFY and dynamic
// updates. Its name is a domain name, as on the wire; peers must use the
// same name, algorithm and secret.
type TSIGKey struct {
	Name      Name      `json:"name"`
	Algorithm string    `json:"algorithm"`
	Secret    []byte    `json:"secret"`
	Created   time.Time `json:"created"`
}

// SecretBase64 returns the secret as BIND and Knot configurations write it.
func (k *TSIGKey) SecretBase64() string { return base64.StdEncoding.EncodeToString(k.Secret) }

// TSIGFudge is the clock skew allowed between signer and verifier, in
// seconds (RFC 8945 section 10 recommends 300).
const TSIGFudge = 300

// Sign adds a TSIG record for k to request m, signed when m is packed by
// a dns.Client, and returns the secrets that client needs (to sign the
// request and verify the answer).
func (k *TSIGKey) Sign(m *dns.Msg) map[string]string {
	m.SetTsig(string(k.Name), k.Algorithm+".", TSIGFudge, time.Now().Unix())
	return map[string]string{string(k.Name): k.SecretBase64()}
}

// NewTSIGKey validates a key's name, algorithm ("" for the default) and
// base64 secret ("" to generate one as long as the algorithm's digest).
func NewTSIGKey(name, algorithm, secret string) (*TSIGKey, error) {
	n, err := ParseName(name)
	if err != nil {
		return nil, Errorf("name", "%v", err)
	}
	alg := strings.ToLower(strings.TrimSuffix(algorithm, "."))
	if alg == "" {
		alg = TSIGHmacSHA256
	}
	if !slices.Contains(TSIGAlgorithms, alg) {
		return nil, Errorf("algorithm", "unknown algorithm %q (known: %s)", algorithm, strings.Join(TSIGAlgorithms, ", "))
	}
	k := &TSIGKey{Name: n, Algorithm: alg}
	if secret == "" {
		k.Secret = make([]byte, tsigDigestSize(alg))
		if _, err := rand.Read(k.Secret); err != nil {
			return nil, fmt.Errorf("generate a secret: %w", err)
		}
		return k, nil
	}
	k.Secret, err = base64.StdEncoding.DecodeString(strings.TrimSpace(secret))
	if err != nil {
		return nil, Errorf("secret", "not base64: %v", err)
	}
	if len(k.Secret) < MinTSIGSecret || len(k.Secret) > MaxTSIGSecret {
		return nil, Errorf("secret", "%d bytes; want %d to %d", len(k.Secret), MinTSIGSecret, MaxTSIGSecret)
	}
	return k, nil
}

func tsigDigestSize(alg string) int {
	switch alg {
	case TSIGHmacSHA512:
		return 64
	case TSIGHmacSHA1:
		return 20
	}
	return 32
}
