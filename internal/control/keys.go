package control

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stratusdns/stratus/internal/model"
)

// Key layout in the store. Names appear in presentation format with "/"
// escaped as \047, so the separators are unambiguous and keys stay readable
// in a store browser (or etcdctl).
//
//	zones/<zone>                      zone settings and state (JSON)
//	rrsets/<zone>/<owner>/<TYPE>      one RRset (codec.go)
//	journal/<zone>/<seq:016x>         one journal entry (JSON)
//	tokens/<id>                       one API token (JSON, secret hashed)
//	services/<name>                   one steered service (JSON)
//	endpoints/<service>/<id>          one endpoint of a service (JSON)
//	tsig/<name>                       one TSIG key (JSON, secret included)
//	steered/<zone>/<owner>/<TYPE>     a steered answer as secondaries get it (steered.go)
//	drillruns/<drill>/<started:020d>  one drill run's report (drillruns.go)
//	events/<seq:016x>                 one health event (events.go)
const (
	prefixZones     = "zones/"
	prefixRRsets    = "rrsets/"
	prefixJournal   = "journal/"
	prefixTokens    = "tokens/"
	prefixServices  = "services/"
	prefixEndpoints = "endpoints/"
	prefixTSIG      = "tsig/"
	prefixEvents    = "events/"
)

func keyName(n model.Name) string {
	return strings.ReplaceAll(string(n), "/", `\047`)
}

func zoneKey(z model.Name) string { return prefixZones + keyName(z) }

func zoneRRsetPrefix(z model.Name) string { return prefixRRsets + keyName(z) + "/" }

func nameRRsetPrefix(z, owner model.Name) string {
	return zoneRRsetPrefix(z) + keyName(owner) + "/"
}

func rrsetKey(z model.Name, k model.Key) string {
	return nameRRsetPrefix(z, k.Name) + model.TypeString(k.Type)
}

func journalPrefix(z model.Name) string { return prefixJournal + keyName(z) + "/" }

// seqKey returns the key of sequence number seq under prefix: 16 hex
// digits, so that keys sort as their numbers do.
func seqKey(prefix string, seq uint64) string { return fmt.Sprintf("%s%016x", prefix, seq) }

// parseSeqKey returns the sequence number of a key seqKey made under
// prefix, and false for any other key.
func parseSeqKey(prefix, key string) (uint64, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || len(rest) != 16 {
		return 0, false
	}
	seq, err := strconv.ParseUint(rest, 16, 64)
	return seq, err == nil
}

// journalSeq returns the sequence number of a key of zone z's journal.
func journalSeq(z model.Name, key string) (uint64, error) {
	seq, ok := parseSeqKey(journalPrefix(z), key)
	if !ok {
		return 0, fmt.Errorf("control: bad journal key %s", key)
	}
	return seq, nil
}

func journalKey(z model.Name, seq uint64) string { return seqKey(journalPrefix(z), seq) }

func eventKey(seq uint64) string { return seqKey(prefixEvents, seq) }

func tokenKey(id string) string { return prefixTokens + id }

func tsigKey(n model.Name) string { return prefixTSIG + keyName(n) }

func serviceKey(n model.Name) string { return prefixServices + keyName(n) }

func endpointPrefix(svc model.Name) string { return prefixEndpoints + keyName(svc) + "/" }

func endpointKey(svc model.Name, id string) string { return endpointPrefix(svc) + id }

// parseServiceKey returns the name of a "services/<name>" key.
func parseServiceKey(key string) (model.Name, bool) {
	rest, ok := strings.CutPrefix(key, prefixServices)
	if !ok {
		return "", false
	}
	n, err := model.ParseName(rest)
	return n, err == nil
}

// parseEndpointKey splits an "endpoints/<service>/<id>" key.
func parseEndpointKey(key string) (model.Name, string, bool) {
	rest, ok := strings.CutPrefix(key, prefixEndpoints)
	if !ok {
		return "", "", false
	}
	svc, id, ok := strings.Cut(rest, "/")
	if !ok {
		return "", "", false
	}
	n, err := model.ParseName(svc)
	return n, id, err == nil
}

// parseZoneKey returns the zone of a "zones/<zone>" key.
func parseZoneKey(key string) (model.Name, bool) {
	rest, ok := strings.CutPrefix(key, prefixZones)
	if !ok {
		return "", false
	}
	n, err := model.ParseName(rest)
	return n, err == nil
}

// parseRRsetKey splits an "rrsets/<zone>/<owner>/<TYPE>" key.
func parseRRsetKey(key string) (zone model.Name, k model.Key, ok bool) {
	rest, ok := strings.CutPrefix(key, prefixRRsets)
	if !ok {
		return "", k, false
	}
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

// rrsetKeyReader splits "rrsets/<zone>/<owner>/<TYPE>" keys as
// parseRRsetKey does, but into wire-format names, and without allocating
// for owners that need no escapes. It remembers the zone of the last key,
// as the keys of a zone come one after another in a scan.
type rrsetKeyReader struct {
	zoneText string
	zone     model.Name
	zoneWire []byte
	owner    [256]byte
}

// read splits key. The owner is valid until the next read.
func (r *rrsetKeyReader) read(key string) (z model.Name, zoneWire, owner []byte, t model.Type, ok bool) {
	rest, ok := strings.CutPrefix(key, prefixRRsets)
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
