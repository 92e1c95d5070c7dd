package model

import (
	"sort"
	"time"
)

// DefaultZoneTTL is the TTL given to records created without one when the
// zone does not say otherwise.
const DefaultZoneTTL = 3600

// ZoneSettings are a zone's own settings, kept beside its records.
type ZoneSettings struct {
	Name         Name         `json:"name"`
	SerialPolicy SerialPolicy `json:"serial_policy"`
	DefaultTTL   uint32       `json:"default_ttl"`
	Created      time.Time    `json:"created"`
	// ACL says who may transfer, update and notify the zone.
	ACL ZoneACL `json:"acl,omitzero"`
	// Notify lists the secondaries told of each new serial.
	Notify []NotifyTarget `json:"notify,omitempty"`
}

// ZoneInfo is what the control plane reports about a zone.
type ZoneInfo struct {
	ZoneSettings
	Serial  uint32    `json:"serial"`
	RRsets  int       `json:"rrsets"`
	Records int       `json:"records"`
	Updated time.Time `json:"updated"`
}

// SortZoneInfos orders zones by name in DNS canonical order.
func SortZoneInfos(zs []ZoneInfo) {
	sort.Slice(zs, func(i, j int) bool { return CompareCanonical(zs[i].Name, zs[j].Name) < 0 })
}
