package control

import (
	"fmt"
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
const (
	prefixZones     = "zones/"
	prefixRRsets    = "rrsets/"
	prefixJournal   = "journal/"
	prefixTokens    = "tokens/"
	prefixServices  = "services/"
	prefixEndpoints = "endpoints/"
	prefixTSIG      = "tsig/"
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

func journalKey(z model.Name, seq uint64) string {
	return fmt.Sprintf("%s%016x", journalPrefix(z), seq)
}

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
