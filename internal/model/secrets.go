package model

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Redacted stands in, in every read of a service, for the value of each
// HTTP header its checks send. Header values are where credentials go
// (Authorization, Cookie, X-Api-Key, ...), and which header carries one
// is the operator's choice, so every value is treated as a secret: it is
// stored and sent with the checks, never returned.
//
// A definition sent back with Redacted as a header's value keeps the
// value stored for that header of the same pool (RestoreRedacted), so a
// definition read with "service get" can be applied again unchanged.
const Redacted = "<redacted>"

// RedactHeaders returns headers with every value replaced by Redacted; a
// new map, so the stored definition is left as it is.
func RedactHeaders(headers map[string]string) map[string]string {
	if len(headers) == 0 {
		return headers
	}
	out := make(map[string]string, len(headers))
	for k := range headers {
		out[k] = Redacted
	}
	return out
}

// RestoreRedacted replaces each header value of s that is Redacted with
// the value stored for the same header (names compared without regard to
// case, as HTTP does) in the pool of the same name of cur, the stored
// definition; cur is nil for a new service. A Redacted value with no
// stored value to keep is an error naming the header: the placeholder is
// never stored, nor sent as a header. The maps of s are replaced, not
// written to.
func RestoreRedacted(s *Service, cur *Service) error {
	for i := range s.Pools {
		h := s.Pools[i].Check.Headers
		if !slices.Contains(slices.Collect(maps.Values(h)), Redacted) {
			continue
		}
		var stored map[string]string
		if cur != nil {
			if p := cur.Pool(s.Pools[i].Name); p != nil {
				stored = p.Check.Headers
			}
		}
		out := maps.Clone(h)
		for _, k := range slices.Sorted(maps.Keys(h)) {
			if h[k] != Redacted {
				continue
			}
			v, ok := storedHeader(stored, k)
			if !ok || v == Redacted {
				return Errorf(fmt.Sprintf("pools[%d].check.headers.%s", i, k),
					"is %q, the placeholder reads show for a stored value, but pool %q has no stored value for header %s; send the value itself",
					Redacted, s.Pools[i].Name, k)
			}
			out[k] = v
		}
		s.Pools[i].Check.Headers = out
	}
	return nil
}

func storedHeader(stored map[string]string, name string) (string, bool) {
	if v, ok := stored[name]; ok {
		return v, true
	}
	for k, v := range stored {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}
