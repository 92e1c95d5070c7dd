package control

import (
	"context"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// Steered answers: what a secondary that cannot steer serves at a steered
// name (the answer for a client with no location). They live apart from
// the zone's records, under "steered/<zone>/<owner>/<TYPE>"
// (schema.SteeredKey), so the API never lists, exports or lets anyone
// edit them and the DNS server never answers from them (steering does);
// but each change bumps the serial and is journaled, so secondaries get
// it by IXFR, and a full transfer carries them.

func getSteeredRRset(tx store.ReadTx, z model.Name, k model.Key) (*model.RRset, error) {
	key := schema.SteeredKey(z, k)
	b, ok, err := tx.Get(key)
	if err != nil || !ok {
		return nil, err
	}
	return schema.DecodeSteered(key, k, b)
}

func putSteeredRRset(tx store.Tx, z model.Name, k model.Key, s *model.RRset) error {
	if s == nil || len(s.Rdata) == 0 {
		return tx.Delete(schema.SteeredKey(z, k))
	}
	b, err := schema.EncodeSteered(s)
	if err != nil {
		return err
	}
	return tx.Put(schema.SteeredKey(z, k), b)
}

// scanSteered reads every steered answer of zone z. A key that does not
// fit the layout is an error, as a value that cannot be decoded is.
func scanSteered(tx store.ReadTx, z model.Name, fn func(*model.RRset) error) error {
	return tx.Scan(schema.SteeredPrefix(z), "", func(key string, value []byte) error {
		_, k, ok := schema.ParseSteeredKey(key)
		if !ok {
			return schema.BadKey(key)
		}
		set, err := schema.DecodeSteered(key, k, value)
		if err != nil {
			return err
		}
		return fn(set)
	})
}

// SteeredZones returns the zones that have steered answers stored. It is
// a listing for steering: a key that does not fit the layout is logged
// and left out.
func (s *SteeredAnswers) SteeredZones(ctx context.Context) ([]model.Name, error) {
	var out []model.Name
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		out = nil
		return tx.Scan(schema.PrefixSteered, "", func(key string, _ []byte) error {
			z, _, ok := schema.ParseSteeredKey(key)
			if !ok {
				schema.Skip(s.log, key, schema.BadKey(key))
				return nil
			}
			if len(out) == 0 || out[len(out)-1] != z {
				out = append(out, z)
			}
			return nil
		})
	})
	return out, err
}

// SetSteeredAnswers sets the steered answers of zone z, all of them
// (those not in sets are removed), as one change: a new serial and a
// journal entry when anything differs, nothing at all otherwise.
func (s *SteeredAnswers) SetSteeredAnswers(ctx context.Context, z model.Name, sets []*model.RRset, actor string) (ChangeResult, error) {
	want := map[model.Key]*model.RRset{}
	for _, set := range sets {
		if !set.Name.IsSubdomainOf(z) {
			return ChangeResult{}, model.Errorf("name", "%s is not in zone %s", set.Name, z)
		}
		want[set.Key()] = set
	}
	return s.editZone(ctx, z, actor, func(model.Name) string { return "steered" }, func(e *edit, _ uint32) error {
		var keys []model.Key
		err := scanSteered(e.tx, z, func(set *model.RRset) error {
			if _, ok := want[set.Key()]; !ok {
				keys = append(keys, set.Key())
			}
			return nil
		})
		if err != nil {
			return err
		}
		for k := range want {
			keys = append(keys, k)
		}
		for _, k := range keys {
			e.steered[k] = true
			e.set(k, want[k])
		}
		return nil
	})
}
