package schema

import (
	"log/slog"
	"sort"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
)

// OnCorrupt is what a scan does with a record that cannot be read (err,
// naming key): the policy of its reader (see the package comment).
// Returning nil leaves the record out and goes on; returning an error
// stops the scan with it.
type OnCorrupt func(key string, err error) error

// Fail is the OnCorrupt of a reader that returns the error: a write
// transaction, or a read the API serves.
func Fail(_ string, err error) error { return err }

// SkipTo is the OnCorrupt of a load or listing that keeps serving: it
// logs the record with Skip and goes on.
func SkipTo(log *slog.Logger) OnCorrupt {
	return func(key string, err error) error {
		Skip(log, key, err)
		return nil
	}
}

// ScanServices returns every service, sorted by name in canonical order.
func ScanServices(tx store.ReadTx, onCorrupt OnCorrupt) ([]*model.Service, error) {
	var out []*model.Service
	err := tx.Scan(PrefixServices, "", func(key string, value []byte) error {
		s, err := DecodeService(key, value)
		if err != nil {
			return onCorrupt(key, err)
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return model.CompareCanonical(out[i].Name, out[j].Name) < 0 })
	return out, nil
}

// ScanEndpoints returns the endpoints of service svc, or of every service
// when svc is "", in key order.
func ScanEndpoints(tx store.ReadTx, svc model.Name, onCorrupt OnCorrupt) ([]*model.Endpoint, error) {
	prefix := PrefixEndpoints
	if svc != "" {
		prefix = EndpointPrefix(svc)
	}
	var out []*model.Endpoint
	err := tx.Scan(prefix, "", func(key string, value []byte) error {
		e, err := DecodeEndpoint(key, value)
		if err != nil {
			return onCorrupt(key, err)
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ScanLeases calls fn with the key and the lease (DecodeLease) of every
// endpoint, in key order: what the lease reaper reads on each pass,
// without decoding the rest of each endpoint.
func ScanLeases(tx store.ReadTx, onCorrupt OnCorrupt, fn func(key string, l *Lease) error) error {
	return tx.Scan(PrefixEndpoints, "", func(key string, value []byte) error {
		l, err := DecodeLease(key, value)
		if err != nil {
			return onCorrupt(key, err)
		}
		return fn(key, l)
	})
}
