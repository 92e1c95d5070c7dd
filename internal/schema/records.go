package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/model"
)

// The stored forms that are not entities of internal/model, and one codec
// (an Encode and a Decode function) per stored entity. Every value but an
// RRset's (codec.go) is JSON. A Decode function names the key it was given
// in its error (CorruptError). It refuses what JSON alone would take for
// an empty record — null, or an object that does not name the entity its
// key names (a zone record of another zone, {}) — so that no reader acts on
// a record that is not the one its key says.

// ZoneRecord is what "zones/<zone>" holds: the zone's settings and the
// bookkeeping the write path keeps current in the same transaction.
type ZoneRecord struct {
	model.ZoneSettings
	Secondary    model.SecondaryState `json:"secondary,omitzero"`
	Updated      time.Time            `json:"updated"`
	RRsets       int                  `json:"rrsets"`
	Records      int                  `json:"records"`
	JournalFirst uint64               `json:"journal_first"` // oldest entry kept; 0 when none
	JournalNext  uint64               `json:"journal_next"`  // sequence of the next entry
	// JournalChanges counts the entries kept of changes other than the
	// steered answers alone; JournalSteered lists the sequence numbers of
	// the steered-answer entries kept, oldest first.
	JournalChanges int      `json:"journal_changes,omitempty"`
	JournalSteered []uint64 `json:"journal_steered,omitempty"`
}

// Info returns the zone's settings and counts at serial.
func (zr *ZoneRecord) Info(serial uint32) model.ZoneInfo {
	return model.ZoneInfo{ZoneSettings: zr.ZoneSettings, Secondary: zr.Secondary, Serial: serial, RRsets: zr.RRsets, Records: zr.Records, Updated: zr.Updated}
}

// UpgradeJournal fills the counts of a zone record written before entries
// were counted by kind: every entry it kept counts as a change.
func (zr *ZoneRecord) UpgradeJournal() {
	if zr.JournalFirst != 0 && zr.JournalChanges == 0 && len(zr.JournalSteered) == 0 {
		zr.JournalChanges = int(zr.JournalNext - zr.JournalFirst)
	}
}

// JournalLen returns how many entries the journal keeps.
func (zr *ZoneRecord) JournalLen() int {
	zr.UpgradeJournal()
	return zr.JournalChanges + len(zr.JournalSteered)
}

// EncodeZone encodes a zone record.
func EncodeZone(zr *ZoneRecord) ([]byte, error) { return json.Marshal(zr) }

// DecodeZone decodes the zone record stored under key.
func DecodeZone(key string, b []byte) (*ZoneRecord, error) {
	z, ok := ParseZoneKey(key)
	if !ok {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(zr *ZoneRecord) error { return same("zone", string(zr.Name), string(z)) })
}

// JournalEntry records one committed change of a zone: the serial before
// and after and every record removed and added, as zone-file lines. It is
// what IXFR (RFC 1995) and change watchers replay. An entry marked Reset
// (a zone's creation, or a change too large to record record by record)
// cannot be replayed: a reader that needs it must take the whole zone. An
// entry marked Steered changed only the steered answers kept for
// secondaries (actor "steering"); those have their own bound, so that
// health changes never push people's changes out of the journal.
type JournalEntry struct {
	Seq       uint64     `json:"seq"`
	Zone      model.Name `json:"zone"`
	OldSerial uint32     `json:"old_serial"`
	NewSerial uint32     `json:"new_serial"`
	Time      time.Time  `json:"time"`
	Actor     string     `json:"actor"`
	Reset     bool       `json:"reset,omitempty"`
	Steered   bool       `json:"steered,omitempty"`
	Removed   []string   `json:"removed,omitempty"`
	Added     []string   `json:"added,omitempty"`
}

// EncodeJournal encodes a journal entry.
func EncodeJournal(e *JournalEntry) ([]byte, error) { return json.Marshal(e) }

// DecodeJournal decodes the journal entry stored under key.
func DecodeJournal(key string, b []byte) (*JournalEntry, error) {
	z, seq, ok := parseJournalKey(key)
	if !ok {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(e *JournalEntry) error {
		return errors.Join(same("zone", string(e.Zone), string(z)), sameSeq(e.Seq, seq))
	})
}

// EncodeToken encodes an API token's record (its secret hashed).
func EncodeToken(t *auth.Token) ([]byte, error) { return json.Marshal(t) }

// DecodeToken decodes the API token stored under key.
func DecodeToken(key string, b []byte) (*auth.Token, error) {
	id, ok := strings.CutPrefix(key, PrefixTokens)
	if !ok || id == "" {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(t *auth.Token) error { return same("token id", t.ID, id) })
}

// EncodeTSIGKey encodes a TSIG key, secret included.
func EncodeTSIGKey(k *model.TSIGKey) ([]byte, error) { return json.Marshal(k) }

// DecodeTSIGKey decodes the TSIG key stored under key.
func DecodeTSIGKey(key string, b []byte) (*model.TSIGKey, error) {
	n, ok := parseNameKey(PrefixTSIG, key)
	if !ok {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(k *model.TSIGKey) error { return same("TSIG key", string(k.Name), string(n)) })
}

// EncodeService encodes a steered service.
func EncodeService(s *model.Service) ([]byte, error) { return json.Marshal(s) }

// DecodeService decodes the service stored under key.
func DecodeService(key string, b []byte) (*model.Service, error) {
	n, ok := ParseServiceKey(key)
	if !ok {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(s *model.Service) error { return same("service", string(s.Name), string(n)) })
}

// EncodeEndpoint encodes an endpoint, with its lease and override.
func EncodeEndpoint(e *model.Endpoint) ([]byte, error) { return json.Marshal(e) }

// DecodeEndpoint decodes the endpoint stored under key.
func DecodeEndpoint(key string, b []byte) (*model.Endpoint, error) {
	svc, id, ok := ParseEndpointKey(key)
	if !ok {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(e *model.Endpoint) error {
		return errors.Join(same("service", string(e.Service), string(svc)), same("endpoint id", e.ID, id))
	})
}

// Lease is the part of an endpoint that the lease reaper reads: which
// endpoint it is and when its lease lapses.
type Lease struct {
	Service  model.Name     `json:"service"`
	ID       string         `json:"id"`
	LeaseTTL model.Duration `json:"lease_ttl,omitempty"`
	Expires  time.Time      `json:"expires,omitempty"`
}

// Lapsed reports whether the lease has lapsed at now (as
// model.Endpoint.Lapsed).
func (l *Lease) Lapsed(now time.Time) bool { return l.LeaseTTL > 0 && !now.Before(l.Expires) }

// DecodeLease decodes the lease of the endpoint stored under key,
// refusing what DecodeEndpoint refuses for its identity, without the rest
// of the endpoint: the reaper reads every endpoint on each pass.
func DecodeLease(key string, b []byte) (*Lease, error) {
	svc, id, ok := ParseEndpointKey(key)
	if !ok {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(l *Lease) error {
		return errors.Join(same("service", string(l.Service), string(svc)), same("endpoint id", l.ID, id))
	})
}

// DrillRun is one drill's run as kept: a summary and the whole report.
type DrillRun struct {
	ID      string          `json:"id"` // <drill>/<started unix nanoseconds>
	Drill   string          `json:"drill"`
	Started time.Time       `json:"started"`
	Ended   time.Time       `json:"ended"`
	Passed  bool            `json:"passed"`
	Aborted string          `json:"aborted,omitempty"`
	Actor   string          `json:"actor"`
	Report  json.RawMessage `json:"report,omitempty"`
}

// EncodeDrillRun encodes a drill run.
func EncodeDrillRun(r *DrillRun) ([]byte, error) { return json.Marshal(r) }

// DecodeDrillRun decodes the drill run stored under key.
func DecodeDrillRun(key string, b []byte) (*DrillRun, error) {
	drill, started, ok := parseDrillRunKey(key)
	if !ok {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(r *DrillRun) error {
		if r.Drill != drill || r.Started.UnixNano() != started || r.ID != fmt.Sprintf("%s/%d", drill, started) {
			return fmt.Errorf("the record is run %q of drill %q started at %s, not the run its key names", r.ID, r.Drill, r.Started.Format(time.RFC3339Nano))
		}
		return nil
	})
}

// StoredEvent is a health event as kept in the store: a change of an
// endpoint's or pool's state ("up", "down", "unknown"; equal Old and New
// when it changed none), with its reason and actor.
type StoredEvent struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Key    string    `json:"key"` // "<service>|<endpoint id>" or "<service>|pool:<name>"
	Old    string    `json:"old"`
	New    string    `json:"new"`
	Reason string    `json:"reason"`
	Actor  string    `json:"actor"`
}

// EncodeEvent encodes a health event.
func EncodeEvent(ev *StoredEvent) ([]byte, error) { return json.Marshal(ev) }

// DecodeEvent decodes the health event stored under key.
func DecodeEvent(key string, b []byte) (*StoredEvent, error) {
	seq, ok := ParseSeqKey(PrefixEvents, key)
	if rest, cut := strings.CutPrefix(key, PrefixEvents); !ok && cut {
		if node, _, found := strings.Cut(rest, "/"); found && node != "" {
			seq, ok = ParseSeqKey(EventPrefix(node), key)
		}
	}
	if !ok {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(ev *StoredEvent) error { return sameSeq(ev.Seq, seq) })
}

var errNull = errors.New("the value is null")

// decodeJSON decodes the JSON value stored under key, refusing null, and
// refusing with the error of check a value that check finds is not the
// record the key names.
func decodeJSON[T any](key string, b []byte, check func(*T) error) (*T, error) {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil, Corrupt(key, errNull)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, Corrupt(key, err)
	}
	if err := check(&v); err != nil {
		return nil, Corrupt(key, err)
	}
	return &v, nil
}

// same returns the error for a record naming what (a zone, a service...)
// got where its key names want, nil when they are the same.
func same(what, got, want string) error {
	if got != want {
		return fmt.Errorf("the record is of %s %q, its key names %q", what, got, want)
	}
	return nil
}

// sameSeq is same for sequence numbers.
func sameSeq(got, want uint64) error {
	if got != want {
		return fmt.Errorf("the record has sequence number %d, its key names %d", got, want)
	}
	return nil
}
