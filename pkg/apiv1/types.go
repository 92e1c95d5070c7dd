// Package apiv1 holds the JSON types of version 1 of the Stratus HTTP API
// (the paths under /v1). The server (internal/api) and the Go client
// (pkg/client) share them, so the two cannot drift apart.
//
// Conventions: names in responses are absolute (trailing dot); names in
// requests may be relative to the zone ("www", "@"), absolute with a
// trailing dot, or the absolute name without the dot. Record data is in
// zone-file presentation format and domain names inside it must be fully
// qualified. Zone writes answer with the zone's new SOA serial, which is
// also the zone's ETag: send it back in If-Match to make a write
// conditional.
package apiv1

import (
	"encoding/json"
	"time"
)

// Zone is a zone's settings and state.
type Zone struct {
	Name string `json:"name"`
	// Serial is the SOA serial; absent while the zone has no SOA record
	// (a secondary zone before its first transfer or once it expired).
	Serial *uint32 `json:"serial,omitempty"`
	// SerialPolicy is how a primary zone's serial advances; absent for a
	// secondary zone, which keeps its primary's serials.
	SerialPolicy string    `json:"serial_policy,omitempty"`
	DefaultTTL   uint32    `json:"default_ttl"`
	RRsets       int       `json:"rrsets"`
	Records      int       `json:"records"`
	Created      time.Time `json:"created"`
	// Updated is when the zone's content last changed (for a secondary
	// zone: its last transfer that changed it); absent before a secondary
	// zone's first transfer.
	Updated *time.Time `json:"updated,omitempty"`
	// ACL says who may transfer, update and notify the zone.
	ACL ZoneACL `json:"acl"`
	// Notify lists the secondaries told of each new serial.
	Notify []NotifyTarget `json:"notify"`
	// Primaries make the zone a secondary of theirs; Secondary says how
	// it stands with them.
	Primaries []NotifyTarget  `json:"primaries"`
	Secondary *SecondaryState `json:"secondary,omitempty"`
}

// SecondaryState is how a secondary zone stands with its primaries.
type SecondaryState struct {
	Refreshed *time.Time `json:"refreshed,omitempty"` // last confirmed or transferred serial
	Expired   bool       `json:"expired"`             // no primary answered for the SOA expire time: SERVFAIL
	LastError string     `json:"last_error,omitempty"`
}

// ZoneACL lists, per operation, the rules of which any one allows a
// request; an empty list allows nobody.
type ZoneACL struct {
	Transfer []ACLRule `json:"transfer"`
	Update   []ACLRule `json:"update"`
	Notify   []ACLRule `json:"notify"`
}

// ACLRule allows a request signed with Key and/or coming from Network
// (CIDR); it names at least one of them.
type ACLRule struct {
	Key     string `json:"key,omitempty"`
	Network string `json:"network,omitempty"`
}

// NotifyTarget is a secondary, "IP:PORT", signed to with Key when set.
type NotifyTarget struct {
	Address string `json:"address"`
	Key     string `json:"key,omitempty"`
}

// UpdateZoneRequest is the body of PATCH /v1/zones/{zone}, a JSON merge
// patch (RFC 7396) of the zone's settings: fields present replace theirs
// (a list as a whole), absent ones are kept.
type UpdateZoneRequest struct {
	DefaultTTL *uint32         `json:"default_ttl,omitempty"`
	ACL        *ZoneACLPatch   `json:"acl,omitempty"`
	Notify     *[]NotifyTarget `json:"notify,omitempty"`
	// Primaries replaces a secondary zone's primaries.
	Primaries *[]NotifyTarget `json:"primaries,omitempty"`
}

// ZoneACLPatch replaces the lists it has and keeps the others.
type ZoneACLPatch struct {
	Transfer *[]ACLRule `json:"transfer,omitempty"`
	Update   *[]ACLRule `json:"update,omitempty"`
	Notify   *[]ACLRule `json:"notify,omitempty"`
}

// ZoneList is the answer to GET /v1/zones.
type ZoneList struct {
	Zones []Zone `json:"zones"`
}

// SOATimers are the SOA timer fields of a new zone, in seconds; omitted
// or zero fields take the server's defaults.
type SOATimers struct {
	Refresh uint32 `json:"refresh,omitempty"`
	Retry   uint32 `json:"retry,omitempty"`
	Expire  uint32 `json:"expire,omitempty"`
	Minimum uint32 `json:"minimum,omitempty"`
}

// CreateZoneRequest is the body of POST /v1/zones.
type CreateZoneRequest struct {
	Name string `json:"name"`
	// Nameservers are the apex NS records; the first is the SOA MNAME.
	// When empty, the server's configured defaults apply.
	Nameservers []string `json:"nameservers,omitempty"`
	// Hostmaster is the SOA RNAME in domain-name form
	// (default hostmaster.<zone>).
	Hostmaster   string         `json:"hostmaster,omitempty"`
	DefaultTTL   *uint32        `json:"default_ttl,omitempty"`
	SerialPolicy string         `json:"serial_policy,omitempty"` // "increment" (default) or "date"
	SOA          *SOATimers     `json:"soa,omitempty"`
	ACL          *ZoneACL       `json:"acl,omitempty"`
	Notify       []NotifyTarget `json:"notify,omitempty"`
	// Primaries make a secondary zone, whose content comes from them by
	// zone transfer; nameservers, hostmaster, soa and serial_policy must
	// then be left out.
	Primaries []NotifyTarget `json:"primaries,omitempty"`
}

// RRset is every record of one type at one name.
type RRset struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	TTL     uint32   `json:"ttl"`
	Records []string `json:"records"`
}

// RRsetList is the answer to GET /v1/zones/{zone}/rrsets.
type RRsetList struct {
	Zone   string  `json:"zone"`
	Serial uint32  `json:"serial"`
	RRsets []RRset `json:"rrsets"`
}

// Change is one edit of one RRset. Op is "add" (add records, creating the
// set), "set" (replace the whole set) or "delete" (remove the listed
// records, or the whole set when Records is empty). TTL is optional: add
// and set keep an existing set's TTL, and new sets get the zone's default
// TTL.
type Change struct {
	Op      string   `json:"op"`
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	TTL     *uint32  `json:"ttl,omitempty"`
	Records []string `json:"records,omitempty"`
}

// ChangeRequest is the body of PATCH /v1/zones/{zone}/rrsets: changes
// applied atomically, all or none.
type ChangeRequest struct {
	Changes []Change `json:"changes"`
}

// PutRRsetRequest is the body of PUT /v1/zones/{zone}/rrsets/{name}/{type}.
type PutRRsetRequest struct {
	TTL     *uint32  `json:"ttl,omitempty"`
	Records []string `json:"records"`
}

// ChangeResult answers every zone write.
type ChangeResult struct {
	Zone      string `json:"zone"`
	OldSerial uint32 `json:"old_serial"`
	Serial    uint32 `json:"serial"`
	// Changed is false when the request left the zone as it was (no new
	// serial was issued).
	Changed bool `json:"changed"`
}

// ImportResult answers PUT /v1/zones/{zone}/zonefile.
type ImportResult struct {
	ChangeResult
	Created bool `json:"created"`
	RRsets  int  `json:"rrsets"`
	Records int  `json:"records"`
}

// JournalEntry is one committed change of a zone.
type JournalEntry struct {
	Seq       uint64    `json:"seq"`
	OldSerial uint32    `json:"old_serial"`
	NewSerial uint32    `json:"new_serial"`
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	// Reset marks a zone's creation or a change too large to list.
	Reset bool `json:"reset,omitempty"`
	// Steered marks a change of only the steered answers kept for
	// secondaries (actor "steering"); the journal keeps at most
	// journal.max_steered_entries of those, apart from other changes.
	Steered bool     `json:"steered,omitempty"`
	Removed []string `json:"removed,omitempty"`
	Added   []string `json:"added,omitempty"`
}

// Journal is the answer to GET /v1/zones/{zone}/journal: entries oldest
// first, or newest first with order=newest. More says that entries follow
// beyond these in the same order (older ones, newest first: ask again with
// before set to the last entry's seq; newer ones, oldest first: from one
// past it).
type Journal struct {
	Zone    string         `json:"zone"`
	Entries []JournalEntry `json:"entries"`
	More    bool           `json:"more,omitempty"`
}

// CompactJournalRequest is the body of
// POST /v1/zones/{zone}/journal/compact: keep only the newest Keep entries.
type CompactJournalRequest struct {
	Keep int `json:"keep"`
}

// JournalCompacted answers a compaction: how many entries remain.
type JournalCompacted struct {
	Zone    string `json:"zone"`
	Entries int    `json:"entries"`
}

// Token describes an API token; the secret is never returned after
// creation. Zones, Services and Pools, when set, bind it: it acts only
// on those objects (README.md, "API tokens"). Expires, when set, is when
// it stops authenticating; LastUsed is when it last authenticated, up to
// a minute behind.
type Token struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Scopes   []string  `json:"scopes"`
	Zones    []string  `json:"zones,omitempty"`
	Services []string  `json:"services,omitempty"`
	Pools    []string  `json:"pools,omitempty"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// TokenList is the answer to GET /v1/tokens.
type TokenList struct {
	Tokens []Token `json:"tokens"`
}

// CreateTokenRequest is the body of POST /v1/tokens. Zones, Services and
// Pools bind the token to those objects; Expires (RFC 3339), when set,
// must be in the future.
type CreateTokenRequest struct {
	Name     string    `json:"name"`
	Scopes   []string  `json:"scopes"`
	Zones    []string  `json:"zones,omitempty"`
	Services []string  `json:"services,omitempty"`
	Pools    []string  `json:"pools,omitempty"`
	Expires  time.Time `json:"expires,omitzero"`
}

// CreatedToken answers POST /v1/tokens. Secret is the bearer token; it is
// shown only in this response.
type CreatedToken struct {
	Token
	Secret string `json:"token"`
}

// TSIGKey describes a TSIG key; the secret is never returned after
// creation.
type TSIGKey struct {
	Name      string    `json:"name"`
	Algorithm string    `json:"algorithm"`
	Created   time.Time `json:"created"`
}

// TSIGKeyList is the answer to GET /v1/tsig-keys.
type TSIGKeyList struct {
	Keys []TSIGKey `json:"keys"`
}

// CreateTSIGKeyRequest is the body of POST /v1/tsig-keys. An empty
// algorithm means hmac-sha256; an empty secret means generate one
// (otherwise base64, as tsig-keygen and keymgr print it).
type CreateTSIGKeyRequest struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm,omitempty"`
	Secret    string `json:"secret,omitempty"`
}

// CreatedTSIGKey answers POST /v1/tsig-keys. Secret (base64) is shown only
// in this response.
type CreatedTSIGKey struct {
	TSIGKey
	Secret string `json:"secret"`
}

// DrillRun is one drill's run as kept: a summary and (when asked for one
// run) the whole report.
type DrillRun struct {
	ID      string          `json:"id,omitempty"` // set by the server: "<drill>/<run>"
	Drill   string          `json:"drill"`
	Started time.Time       `json:"started"`
	Ended   time.Time       `json:"ended"`
	Passed  bool            `json:"passed"`
	Aborted string          `json:"aborted,omitempty"`
	Actor   string          `json:"actor,omitempty"`
	Report  json.RawMessage `json:"report,omitempty"`
}

// DrillRunList answers GET /v1/drills/{drill}/runs and GET /v1/drill-runs.
type DrillRunList struct {
	Runs []DrillRun `json:"runs"`
}

// Error is the body of every error response, under "error".
type Error struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the offending input, when there is one
	// ("changes[2].records[0]", "name", "zonefile:14").
	Field string `json:"field,omitempty"`
}

// ErrorResponse wraps Error.
type ErrorResponse struct {
	Error Error `json:"error"`
}

// Error codes.
const (
	CodeInvalid            = "invalid_argument"
	CodeUnauthenticated    = "unauthenticated"
	CodePermissionDenied   = "permission_denied"
	CodeNotFound           = "not_found"
	CodeAlreadyExists      = "already_exists"
	CodeFailedPrecondition = "failed_precondition"
	CodeConflict           = "conflict" // still in use by something that must change first
	CodeTooLarge           = "payload_too_large"
	CodeUnsupportedMedia   = "unsupported_media_type"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeInternal           = "internal"
	CodeUnavailable        = "unavailable"
	CodeRateLimited        = "rate_limited" // 429, with Retry-After
)

// AuditActor is who made an audited change: a token (kind "token", with
// its id and name), a DNS client (kind "tsig": the TSIG key it signed
// with, or "unsigned") or the server itself (kind "system": name says
// what, such as "lease-reaper" or "secondary").
type AuditActor struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// AuditEntry is one entry of the audit log: one change of one object,
// in the object's stream, chained to the entry before it.
type AuditEntry struct {
	Stream string     `json:"stream"`
	Seq    uint64     `json:"seq"`
	Time   time.Time  `json:"time"`
	Actor  AuditActor `json:"actor"`
	// Source is the remote address of the API request or DNS client;
	// empty for the server's own work.
	Source string `json:"source,omitempty"`
	Action string `json:"action"`
	Object string `json:"object"`
	Detail string `json:"detail,omitempty"`
	// Before and After are the hex HMAC-SHA256 (under a key derived
	// from the audit key) of the object's stored encoding before and
	// after the change; empty where it did not
	// exist.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Prev is the MAC of the stream's previous entry, MAC this entry's
	// own (HMAC-SHA256 under the audit key).
	Prev string `json:"prev,omitempty"`
	MAC  string `json:"mac"`
}

// AuditLog is the answer to GET /v1/audit: entries oldest first. More
// says that the limit left newer ones out (ask again with since set to
// the last entry's time).
type AuditLog struct {
	Entries []AuditEntry `json:"entries"`
	More    bool         `json:"more,omitempty"`
}

// AuditProblem is one thing GET /v1/audit/verify found wrong: in which
// stream, at which entry (0 for the stream's head or checkpoint), under
// which store key, and what.
type AuditProblem struct {
	Stream  string `json:"stream"`
	Seq     uint64 `json:"seq,omitempty"`
	Key     string `json:"key"`
	Problem string `json:"problem"`
}

// AuditStream is one stream as verification found it: the sequence
// numbers of its entries kept, the last one pruned, and its head (the
// MAC of its newest entry).
type AuditStream struct {
	Stream string `json:"stream"`
	First  uint64 `json:"first"`
	Last   uint64 `json:"last"`
	Pruned uint64 `json:"pruned,omitempty"`
	Head   string `json:"head"`
}

// AuditVerification is the answer to GET /v1/audit/verify. OK is true
// when no problem was found.
type AuditVerification struct {
	OK       bool           `json:"ok"`
	Entries  int            `json:"entries"`
	Streams  []AuditStream  `json:"streams"`
	Problems []AuditProblem `json:"problems"`
}

// Webhook describes an alert webhook as every read shows it: Secret is
// always "<redacted>".
type Webhook struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Secret signs deliveries (X-Stratus-Signature); never shown after
	// creation.
	Secret string `json:"secret"`
	// Events, Services and Zones filter the alerts delivered; empty means
	// all.
	Events   []string  `json:"events,omitempty"`
	Services []string  `json:"services,omitempty"`
	Zones    []string  `json:"zones,omitempty"`
	Created  time.Time `json:"created"`
}

// WebhookList is the answer to GET /v1/webhooks.
type WebhookList struct {
	Webhooks []Webhook `json:"webhooks"`
}

// CreateWebhookRequest is the body of POST /v1/webhooks. An empty secret
// means generate one.
type CreateWebhookRequest struct {
	Name     string   `json:"name"`
	URL      string   `json:"url"`
	Secret   string   `json:"secret,omitempty"`
	Events   []string `json:"events,omitempty"`
	Services []string `json:"services,omitempty"`
	Zones    []string `json:"zones,omitempty"`
}

// CreatedWebhook answers POST /v1/webhooks: the only answer that shows
// the secret.
type CreatedWebhook struct {
	Webhook
	Secret string `json:"secret"`
}

// WebhookTestResult answers POST /v1/webhooks/{name}/test: how the
// receiver answered a test alert.
type WebhookTestResult struct {
	Delivery string `json:"delivery"`
	// Status is the receiver's HTTP status; 0 when none answered.
	Status int    `json:"status"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
}
