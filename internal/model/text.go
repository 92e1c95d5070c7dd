package model

import (
	"strings"
	"unicode"
)

// Limits of the free text a caller writes: a function's endpoints:write
// token among them. Each is in bytes of UTF-8.
const (
	// MaxReasonLen bounds a pushed health report's reason and an
	// override's reason.
	MaxReasonLen = 256
	// MaxActorLen bounds what an override is for ("drill:eu-failover").
	MaxActorLen = 128
	// MaxEndpointIDLen bounds an endpoint's id.
	MaxEndpointIDLen = 128
	// MaxPoolNameLen bounds a pool's name.
	MaxPoolNameLen = 63
	// MaxAddressLen bounds an endpoint's address and check target (a
	// hostname is at most 253 bytes written out).
	MaxAddressLen = 262
)

// IsControl reports whether r is a control character: C0 (U+0000 to
// U+001F, tab and newline among them), DEL (U+007F) or C1 (U+0080 to
// U+009F).
func IsControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }

// StripControl returns s without its control characters (IsControl).
// Ordinary spaces stay.
func StripControl(s string) string {
	if strings.IndexFunc(s, IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// CleanText checks free text (a reason) written to field: longer than
// max bytes is an error naming the field and the limit; otherwise the
// text is returned without control characters.
func CleanText(field, s string, max int) (string, error) {
	if len(s) > max {
		return "", Errorf(field, "is %d bytes long; at most %d are allowed", len(s), max)
	}
	return StripControl(s), nil
}

// checkWord checks a word written to field (an id, a name, an address):
// at most max bytes, with no control character or space anywhere. The
// error does not repeat a long value.
func checkWord(field, s string, max int) error {
	if len(s) > max {
		return Errorf(field, "is %d bytes long; at most %d are allowed", len(s), max)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return IsControl(r) || unicode.IsSpace(r) }); i >= 0 {
		return Errorf(field, "%q has a control character or space at byte %d", s, i)
	}
	return nil
}
