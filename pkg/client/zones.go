package client

import (
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// Zones lists every zone.
func (c *Client) Zones(ctx context.Context) ([]apiv1.Zone, error) {
	var out apiv1.ZoneList
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/zones"}, &out)
	return out.Zones, err
}

// Zone returns one zone.
func (c *Client) Zone(ctx context.Context, zone string) (apiv1.Zone, error) {
	var out apiv1.Zone
	_, err := c.do(ctx, request{method: http.MethodGet, path: zonePath(zone)}, &out)
	return out, err
}

// CreateZone creates a zone with SOA and NS records.
func (c *Client) CreateZone(ctx context.Context, req apiv1.CreateZoneRequest) (apiv1.Zone, error) {
	var out apiv1.Zone
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/zones", json: req}, &out)
	return out, err
}

// DeleteZone deletes a zone; ifMatch makes it conditional on the serial.
func (c *Client) DeleteZone(ctx context.Context, zone string, ifMatch *uint32) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: zonePath(zone), ifMatch: serial(ifMatch)}, nil)
	return err
}

// ImportOptions make an import conditional.
type ImportOptions struct {
	IfMatch      *uint32 // replace only at this serial
	CreateOnly   bool    // fail if the zone exists
	SerialPolicy string  // for a zone the import creates
}

// ImportZone uploads a zone file as the zone's whole content.
func (c *Client) ImportZone(ctx context.Context, zone string, zoneFile io.Reader, o ImportOptions) (apiv1.ImportResult, error) {
	var out apiv1.ImportResult
	q := url.Values{}
	if o.SerialPolicy != "" {
		q.Set("serial_policy", o.SerialPolicy)
	}
	_, err := c.do(ctx, request{method: http.MethodPut, path: zonePath(zone) + "/zonefile", query: q, body: zoneFile,
		contentType: "text/dns", ifMatch: serial(o.IfMatch), ifNoneMatch: o.CreateOnly}, &out)
	return out, err
}

// ExportZone writes the zone file to w and returns the zone's serial.
func (c *Client) ExportZone(ctx context.Context, zone string, w io.Writer) (uint32, error) {
	return c.do(ctx, request{method: http.MethodGet, path: zonePath(zone) + "/zonefile"}, w)
}

// Journal reads a zone's journal from sequence number from (0: the oldest
// kept), at most limit entries (0: the server's default).
func (c *Client) Journal(ctx context.Context, zone string, from uint64, limit int) (apiv1.Journal, error) {
	q := url.Values{}
	if from > 0 {
		q.Set("from", formatUint(from))
	}
	return c.journal(ctx, zone, q, limit)
}

// RecentJournal reads a zone's journal newest first, from the entry
// before sequence number before (0: the newest), at most limit entries
// (0: the server's default).
func (c *Client) RecentJournal(ctx context.Context, zone string, before uint64, limit int) (apiv1.Journal, error) {
	q := url.Values{"order": {"newest"}}
	if before > 0 {
		q.Set("before", formatUint(before))
	}
	return c.journal(ctx, zone, q, limit)
}

// journal reads one page of a zone's journal: q names where it starts and
// its order, limit bounds it (0: the server's default).
func (c *Client) journal(ctx context.Context, zone string, q url.Values, limit int) (apiv1.Journal, error) {
	if limit > 0 {
		q.Set("limit", formatUint(uint64(limit)))
	}
	var out apiv1.Journal
	_, err := c.do(ctx, request{method: http.MethodGet, path: zonePath(zone) + "/journal", query: q}, &out)
	return out, err
}

// CompactJournal keeps only the newest keep entries of a zone's journal.
func (c *Client) CompactJournal(ctx context.Context, zone string, keep int) (apiv1.JournalCompacted, error) {
	var out apiv1.JournalCompacted
	_, err := c.do(ctx, request{method: http.MethodPost, path: zonePath(zone) + "/journal/compact", json: apiv1.CompactJournalRequest{Keep: keep}}, &out)
	return out, err
}

// UpdateZone changes a zone's settings (a merge patch: absent fields are
// kept).
func (c *Client) UpdateZone(ctx context.Context, zone string, req apiv1.UpdateZoneRequest) (apiv1.Zone, error) {
	var out apiv1.Zone
	_, err := c.do(ctx, request{method: http.MethodPatch, path: zonePath(zone), json: req}, &out)
	return out, err
}
