package apiv1

import "net/url"

// PathSegment escapes a name or id for use as one URL path segment. "."
// and ".." (the root zone, say) are escaped too, or path cleaning would
// remove them.
func PathSegment(s string) string {
	switch s {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}
