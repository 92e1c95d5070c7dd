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
	// Primaries make the zone a secondary: its content comes from them by
	// zone transfer, and nothing else may change it.
	Primaries []NotifyTarget `json:"primaries,omitempty"`
}

// IsSecondary reports whether the zone takes its content from primaries.
func (s *ZoneSettings) IsSecondary() bool { return len(s.Primaries) > 0 }

// SecondaryState is how a secondary zone stands with its primaries.
type SecondaryState struct {
	// Refreshed is the last time a primary confirmed the zone's serial
	// (or sent a newer one); zero before the first transfer.
	Refreshed time.Time `json:"refreshed,omitzero"`
	// Expired is set when no primary answered for the SOA's expire time:
	// the zone's records are gone and it answers SERVFAIL.
	Expired bool `json:"expired,omitempty"`
	// LastError is the last refresh failure, cleared by a success.
	LastError string `json:"last_error,omitempty"`
}

// ZoneInfo is what the control plane reports about a zone.
type ZoneInfo struct {
	ZoneSettings
	Secondary SecondaryState `json:"secondary"`
	Serial    uint32         `json:"serial"`
	RRsets    int            `json:"rrsets"`
	Records   int            `json:"records"`
	Updated   time.Time      `json:"updated"`
}

// HasSerial reports whether the zone has a SOA record, and so Serial is
// its serial: a primary zone always has one; a secondary zone's records,
// its SOA among them, come only from a transfer, so it has none before the
// first one or after it expired.
func (z *ZoneInfo) HasSerial() bool { return !z.IsSecondary() || z.Records > 0 }

// SortZoneInfos orders zones by name in DNS canonical order.
func SortZoneInfos(zs []ZoneInfo) {
	sort.Slice(zs, func(i, j int) bool { return CompareCanonical(zs[i].Name, zs[j].Name) < 0 })
}
