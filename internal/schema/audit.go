package schema

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/audit"
	"github.com/stratusdns/stratus/internal/model"
)

// The audit log: a chain of entries per stream (one stream per object:
// a zone, a service, an endpoint, a token, a TSIG key, a drill), its head
// (the newest entry's sequence number and MAC) and, once old entries are
// pruned, its checkpoint (the last pruned entry's sequence number and
// MAC). Entries, heads and checkpoints carry HMAC-SHA256s under the audit
// key, which the store does not hold (internal/audit).

// AuditZoneStream is the stream of zone z: its records, settings,
// transfers in and journal compactions.
func AuditZoneStream(z model.Name) string { return "zone:" + KeyName(z) }

// AuditServiceStream is the stream of service n's definition and pool
// overrides.
func AuditServiceStream(n model.Name) string { return "service:" + KeyName(n) }

// AuditEndpointStream is the stream of endpoint id of service svc.
func AuditEndpointStream(svc model.Name, id string) string {
	return "endpoint:" + KeyName(svc) + "/" + id
}

// AuditTokenStream is the stream of the API token with id id.
func AuditTokenStream(id string) string { return "token:" + id }

// AuditTSIGStream is the stream of the TSIG key named n.
func AuditTSIGStream(n model.Name) string { return "tsig:" + KeyName(n) }

// AuditWebhookStream is the stream of the alert webhook named name.
func AuditWebhookStream(name string) string { return "webhook:" + name }

// AuditDrillStream is the stream of drill's kept runs.
func AuditDrillStream(drill string) string { return "drill:" + drill }

// AuditEntryPrefix is the prefix of stream's entries.
func AuditEntryPrefix(stream string) string { return PrefixAudit + stream + "/" }

// AuditEntryKey is the key of entry seq of stream:
// "audit/<stream>/<seq:016x>".
func AuditEntryKey(stream string, seq uint64) string { return SeqKey(AuditEntryPrefix(stream), seq) }

// ParseAuditEntryKey splits an "audit/<stream>/<seq:016x>" key.
func ParseAuditEntryKey(key string) (stream string, seq uint64, ok bool) {
	rest, ok := strings.CutPrefix(key, PrefixAudit)
	i := strings.LastIndexByte(rest, '/')
	if !ok || i <= 0 {
		return "", 0, false
	}
	stream = rest[:i]
	seq, ok = ParseSeqKey(AuditEntryPrefix(stream), key)
	return stream, seq, ok
}

// AuditHeadKey is the key of stream's head: "audit-heads/<stream>".
func AuditHeadKey(stream string) string { return PrefixAuditHeads + stream }

// AuditCheckpointKey is the key of stream's checkpoint:
// "audit-checkpoints/<stream>".
func AuditCheckpointKey(stream string) string { return PrefixAuditCheckpoints + stream }

// AuditKeyIDKey is the key of the identity of the audit key the log is
// written with: "audit-key/id".
const AuditKeyIDKey = PrefixAuditKey + "id"

// AuditKeyID is the identity of the audit key the store's log is written
// with (audit.KeyID: a MAC under the key, which does not reveal it),
// written by the first node to start, so that a node given another key
// refuses to start before it writes a single entry.
type AuditKeyID struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

// EncodeAuditKeyID encodes the audit key's identity.
func EncodeAuditKeyID(k *AuditKeyID) ([]byte, error) { return json.Marshal(k) }

// DecodeAuditKeyID decodes the audit key's identity stored under key.
func DecodeAuditKeyID(key string, b []byte) (*AuditKeyID, error) {
	if key != AuditKeyIDKey {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(k *AuditKeyID) error {
		if k.ID == "" {
			return errors.New("no key id")
		}
		return nil
	})
}

// AuditEntry is one change as the audit log keeps it: when, who (and
// from where), what was done to which object, the keyed digest of the
// object's stored encoding before and after ("" where it did not exist), and the
// chain: the MAC of the stream's previous entry (or of the checkpoint's
// entry, "" for the first) and this entry's own MAC over all the rest.
type AuditEntry struct {
	Stream string      `json:"stream"`
	Seq    uint64      `json:"seq"`
	Time   time.Time   `json:"time"`
	Actor  audit.Actor `json:"actor"`
	Source string      `json:"source,omitempty"`
	Action string      `json:"action"`
	Object string      `json:"object"`
	Detail string      `json:"detail,omitempty"`
	Before string      `json:"before,omitempty"`
	After  string      `json:"after,omitempty"`
	Prev   string      `json:"prev,omitempty"`
	MAC    string      `json:"mac"`
}

// MACInput is what the entry's MAC covers: every field but the MAC,
// each length-prefixed, the time in Unix nanoseconds.
func (e *AuditEntry) MACInput() []byte {
	return macInput("stratus audit entry 1", e.Stream, e.Seq, e.Time.UnixNano(),
		e.Actor.Kind, e.Actor.ID, e.Actor.Name, e.Source, e.Action, e.Object, e.Detail, e.Before, e.After, e.Prev)
}

// AuditHead is a stream's head: its newest entry's sequence number, MAC
// and time, MACed itself so that it cannot be moved back to an earlier
// entry of the stream by someone without the key.
type AuditHead struct {
	Stream  string    `json:"stream"`
	Seq     uint64    `json:"seq"`
	MAC     string    `json:"mac"`
	Time    time.Time `json:"time"`
	HeadMAC string    `json:"head_mac"`
}

// MACInput is what the head's MAC covers.
func (h *AuditHead) MACInput() []byte {
	return macInput("stratus audit head 1", h.Stream, h.Seq, h.Time.UnixNano(), h.MAC)
}

// AuditCheckpoint is where a stream's kept entries start once older ones
// are pruned: the last pruned entry's sequence number, MAC and time, and
// when it was pruned, MACed itself.
type AuditCheckpoint struct {
	Stream        string    `json:"stream"`
	Seq           uint64    `json:"seq"`
	MAC           string    `json:"mac"`
	Time          time.Time `json:"time"`
	Pruned        time.Time `json:"pruned"`
	CheckpointMAC string    `json:"checkpoint_mac"`
}

// MACInput is what the checkpoint's MAC covers.
func (c *AuditCheckpoint) MACInput() []byte {
	return macInput("stratus audit checkpoint 1", c.Stream, c.Seq, c.Time.UnixNano(), c.MAC, c.Pruned.UnixNano())
}

// macInput encodes fields (strings, uint64s and int64s) one after the
// other, each prefixed by its length, so that no two lists of fields
// encode alike.
func macInput(fields ...any) []byte {
	var b []byte
	for _, f := range fields {
		switch v := f.(type) {
		case string:
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		case uint64:
			b = binary.BigEndian.AppendUint32(b, 8)
			b = binary.BigEndian.AppendUint64(b, v)
		case int64:
			b = binary.BigEndian.AppendUint32(b, 8)
			b = binary.BigEndian.AppendUint64(b, uint64(v))
		default:
			panic(fmt.Sprintf("schema: macInput of %T", f))
		}
	}
	return b
}

// EncodeAuditEntry encodes an audit entry.
func EncodeAuditEntry(e *AuditEntry) ([]byte, error) { return json.Marshal(e) }

// DecodeAuditEntry decodes the audit entry stored under key.
func DecodeAuditEntry(key string, b []byte) (*AuditEntry, error) {
	stream, seq, ok := ParseAuditEntryKey(key)
	if !ok {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(e *AuditEntry) error {
		return errors.Join(same("stream", e.Stream, stream), sameSeq(e.Seq, seq))
	})
}

// EncodeAuditHead encodes a stream's head.
func EncodeAuditHead(h *AuditHead) ([]byte, error) { return json.Marshal(h) }

// DecodeAuditHead decodes the head stored under key.
func DecodeAuditHead(key string, b []byte) (*AuditHead, error) {
	stream, ok := strings.CutPrefix(key, PrefixAuditHeads)
	if !ok || stream == "" {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(h *AuditHead) error { return same("stream", h.Stream, stream) })
}

// EncodeAuditCheckpoint encodes a stream's checkpoint.
func EncodeAuditCheckpoint(c *AuditCheckpoint) ([]byte, error) { return json.Marshal(c) }

// DecodeAuditCheckpoint decodes the checkpoint stored under key.
func DecodeAuditCheckpoint(key string, b []byte) (*AuditCheckpoint, error) {
	stream, ok := strings.CutPrefix(key, PrefixAuditCheckpoints)
	if !ok || stream == "" {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(c *AuditCheckpoint) error { return same("stream", c.Stream, stream) })
}
