package schema

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stratusdns/stratus/internal/model"
)

// The key prefixes: every key the store holds starts with one of them
// (the layout is in the package comment).
const (
	PrefixZones     = "zones/"
	PrefixRRsets    = "rrsets/"
	PrefixJournal   = "journal/"
	PrefixSteered   = "steered/"
	PrefixTokens    = "tokens/"
	PrefixTSIG      = "tsig/"
	PrefixServices  = "services/"
	PrefixEndpoints = "endpoints/"
	PrefixDrillRuns = "drillruns/"
	PrefixEvents    = "events/"

	PrefixWebhooks      = "webhooks/"
	PrefixWebhookOutbox = "webhook-outbox/"
	PrefixWebhookSeq    = "webhook-seq/"

	PrefixAudit            = "audit/"
	PrefixAuditHeads       = "audit-heads/"
	PrefixAuditCheckpoints = "audit-checkpoints/"
	PrefixAuditKey         = "audit-key/"
)

// KeyName is the form of name n in keys: presentation format with "/"
// escaped as \047.
func KeyName(n model.Name) string {
	return strings.ReplaceAll(string(n), "/", `\047`)
}

// ZoneKey is the key of zone z's record: "zones/<zone>".
func ZoneKey(z model.Name) string { return PrefixZones + KeyName(z) }

// ZoneRRsetPrefix is the prefix of zone z's RRsets.
func ZoneRRsetPrefix(z model.Name) string { return PrefixRRsets + KeyName(z) + "/" }

// NameRRsetPrefix is the prefix of the RRsets at one owner of zone z.
func NameRRsetPrefix(z, owner model.Name) string {
	return ZoneRRsetPrefix(z) + KeyName(owner) + "/"
}

// RRsetKey is the key of one RRset: "rrsets/<zone>/<owner>/<TYPE>".
func RRsetKey(z model.Name, k model.Key) string {
	return NameRRsetPrefix(z, k.Name) + model.TypeString(k.Type)
}

// JournalPrefix is the prefix of zone z's journal entries.
func JournalPrefix(z model.Name) string { return PrefixJournal + KeyName(z) + "/" }

// SeqKey returns the key of sequence number seq under prefix: 16 hex
// digits, so that keys sort as their numbers do.
func SeqKey(prefix string, seq uint64) string { return fmt.Sprintf("%s%016x", prefix, seq) }

// ParseSeqKey returns the sequence number of a key SeqKey made under
// prefix, and false for any other key.
func ParseSeqKey(prefix, key string) (uint64, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || len(rest) != 16 {
		return 0, false
	}
	seq, err := strconv.ParseUint(rest, 16, 64)
	return seq, err == nil
}

// JournalSeq returns the sequence number of a key of zone z's journal; a
// key that is not one is corrupt (BadKey).
func JournalSeq(z model.Name, key string) (uint64, error) {
	seq, ok := ParseSeqKey(JournalPrefix(z), key)
	if !ok {
		return 0, BadKey(key)
	}
	return seq, nil
}

// parseJournalKey splits a "journal/<zone>/<seq:016x>" key.
func parseJournalKey(key string) (model.Name, uint64, bool) {
	rest, ok := strings.CutPrefix(key, PrefixJournal)
	i := strings.LastIndexByte(rest, '/')
	if !ok || i < 0 {
		return "", 0, false
	}
	z, err := model.ParseName(rest[:i])
	if err != nil {
		return "", 0, false
	}
	seq, ok := ParseSeqKey(JournalPrefix(z), key)
	return z, seq, ok
}

// JournalKey is the key of entry seq of zone z's journal.
func JournalKey(z model.Name, seq uint64) string { return SeqKey(JournalPrefix(z), seq) }

// EventKey is the key of health event seq.
func EventKey(seq uint64) string { return SeqKey(PrefixEvents, seq) }

// EventPrefix is the prefix of a node's health events: "events/" for a
// node alone on its store (node ""), "events/<node>/" for a node of a
// cluster.
func EventPrefix(node string) string {
	if node == "" {
		return PrefixEvents
	}
	return PrefixEvents + node + "/"
}

// TokenKey is the key of the API token with id id.
func TokenKey(id string) string { return PrefixTokens + id }

// TSIGKey is the key of the TSIG key named n.
func TSIGKey(n model.Name) string { return PrefixTSIG + KeyName(n) }

// ServiceKey is the key of the service named n.
func ServiceKey(n model.Name) string { return PrefixServices + KeyName(n) }

// EndpointPrefix is the prefix of service svc's endpoints.
func EndpointPrefix(svc model.Name) string { return PrefixEndpoints + KeyName(svc) + "/" }

// EndpointKey is the key of endpoint id of service svc.
func EndpointKey(svc model.Name, id string) string { return EndpointPrefix(svc) + id }

// SteeredPrefix is the prefix of zone z's steered answers.
func SteeredPrefix(z model.Name) string { return PrefixSteered + KeyName(z) + "/" }

// SteeredKey is the key of one steered answer of zone z:
// "steered/<zone>/<owner>/<TYPE>".
func SteeredKey(z model.Name, k model.Key) string {
	return SteeredPrefix(z) + KeyName(k.Name) + "/" + model.TypeString(k.Type)
}

// ParseSteeredKey splits a "steered/<zone>/<owner>/<TYPE>" key.
func ParseSteeredKey(key string) (zone model.Name, k model.Key, ok bool) {
	rest, ok := strings.CutPrefix(key, PrefixSteered)
	if !ok {
		return "", k, false
	}
	return parseZoneOwnerType(rest)
}

// DrillRunPrefix is the prefix of one drill's runs.
func DrillRunPrefix(drill string) string { return PrefixDrillRuns + drill + "/" }

// DrillRunKey is the key of a run of drill started at Unix nanoseconds
// started: 20 decimal digits, so that keys sort by start.
func DrillRunKey(drill string, started int64) string {
	return fmt.Sprintf("%s%020d", DrillRunPrefix(drill), started)
}

// parseDrillRunKey splits a "drillruns/<drill>/<started:020d>" key.
func parseDrillRunKey(key string) (drill string, started int64, ok bool) {
	rest, ok := strings.CutPrefix(key, PrefixDrillRuns)
	i := strings.LastIndexByte(rest, '/')
	if !ok || i <= 0 || len(rest)-i-1 != 20 {
		return "", 0, false
	}
	started, err := strconv.ParseInt(rest[i+1:], 10, 64)
	return rest[:i], started, err == nil
}

// ParseServiceKey returns the name of a "services/<name>" key.
func ParseServiceKey(key string) (model.Name, bool) { return parseNameKey(PrefixServices, key) }

// parseNameKey returns the name of a "<prefix><name>" key.
func parseNameKey(prefix, key string) (model.Name, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return "", false
	}
	n, err := model.ParseName(rest)
	return n, err == nil
}

// ParseEndpointKey splits an "endpoints/<service>/<id>" key.
func ParseEndpointKey(key string) (model.Name, string, bool) {
	rest, ok := strings.CutPrefix(key, PrefixEndpoints)
	if !ok {
		return "", "", false
	}
	svc, id, ok := strings.Cut(rest, "/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", "", false
	}
	n, err := model.ParseName(svc)
	return n, id, err == nil
}

// ParseZoneKey returns the zone of a "zones/<zone>" key.
func ParseZoneKey(key string) (model.Name, bool) { return parseNameKey(PrefixZones, key) }

// ParseRRsetKey splits an "rrsets/<zone>/<owner>/<TYPE>" key.
func ParseRRsetKey(key string) (zone model.Name, k model.Key, ok bool) {
	rest, ok := strings.CutPrefix(key, PrefixRRsets)
	if !ok {
		return "", k, false
	}
	return parseZoneOwnerType(rest)
}

// parseZoneOwnerType splits "<zone>/<owner>/<TYPE>".
func parseZoneOwnerType(rest string) (zone model.Name, k model.Key, ok bool) {
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return "", k, false
	}
	z, err1 := model.ParseName(parts[0])
	o, err2 := model.ParseName(parts[1])
	t, err3 := model.ParseType(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return "", k, false
	}
	return z, model.Key{Name: o, Type: t}, true
}

// RRsetKeyReader splits "rrsets/<zone>/<owner>/<TYPE>" keys as
// ParseRRsetKey does, but into wire-format names, and without allocating
// for owners that need no escapes. It remembers the zone of the last key,
// as the keys of a zone come one after another in a scan.
type RRsetKeyReader struct {
	zoneText string
	zone     model.Name
	zoneWire []byte
	owner    [256]byte
}

// Read splits key. The owner is valid until the next Read.
func (r *RRsetKeyReader) Read(key string) (z model.Name, zoneWire, owner []byte, t model.Type, ok bool) {
	rest, ok := strings.CutPrefix(key, PrefixRRsets)
	if !ok {
		return "", nil, nil, 0, false
	}
	zt, rest, ok1 := strings.Cut(rest, "/")
	ot, tt, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || strings.Contains(tt, "/") {
		return "", nil, nil, 0, false
	}
	if zt != r.zoneText || r.zoneWire == nil {
		z, err := model.ParseName(zt)
		if err != nil {
			return "", nil, nil, 0, false
		}
		r.zoneText, r.zone, r.zoneWire = zt, z, z.Wire()
	}
	owner, ok = plainWire(&r.owner, ot)
	if !ok {
		n, err := model.ParseName(ot)
		if err != nil {
			return "", nil, nil, 0, false
		}
		owner = append(r.owner[:0], n.Wire()...)
	}
	t, err := model.ParseType(tt)
	if err != nil {
		return "", nil, nil, 0, false
	}
	return r.zone, r.zoneWire, owner, t, true
}

// plainWire writes the wire form of s into buf when s is an absolute
// name of lowercase letters, digits, '-', '_' and '*' only: a name that is
// already canonical and needs no escapes. It reports false for any other
// s.
func plainWire(buf *[256]byte, s string) ([]byte, bool) {
	if s == "." {
		buf[0] = 0
		return buf[:1], true
	}
	if len(s) < 2 || len(s) > 254 || s[len(s)-1] != '.' {
		return nil, false
	}
	n, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			l := i - start
			if l == 0 || l > 63 {
				return nil, false
			}
			buf[n] = byte(l)
			copy(buf[n+1:], s[start:i])
			n += l + 1
			start = i + 1
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
		default:
			return nil, false
		}
	}
	buf[n] = 0
	return buf[:n+1], true
}
