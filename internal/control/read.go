package control

import (
	"context"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// RRsetFilter selects RRsets; zero fields match everything.
type RRsetFilter struct {
	Name model.Name
	Type model.Type
}

// RRsets returns the zone's sets that match f, in output order (SOA, apex
// NS, then canonical), and the zone's serial at the time of reading.
func (s *Zones) RRsets(ctx context.Context, z model.Name, f RRsetFilter) ([]*model.RRset, uint32, error) {
	var out []*model.RRset
	var serial uint32
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		out, serial = nil, 0
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		if serial, err = storedSerial(tx, zr); err != nil {
			return err
		}
		if f.Name != "" && f.Type != 0 {
			set, err := getRRset(tx, z, model.Key{Name: f.Name, Type: f.Type})
			if set != nil {
				out = append(out, set)
			}
			return err
		}
		prefix := schema.ZoneRRsetPrefix(z)
		if f.Name != "" {
			prefix = schema.NameRRsetPrefix(z, f.Name)
		}
		return tx.Scan(prefix, "", func(key string, value []byte) error {
			_, k, ok := schema.ParseRRsetKey(key)
			if !ok {
				return schema.BadKey(key)
			}
			if f.Type != 0 && k.Type != f.Type {
				return nil
			}
			set, err := schema.DecodeRRset(key, k, value)
			if err != nil {
				return err
			}
			out = append(out, set)
			return nil
		})
	})
	if err != nil {
		return nil, 0, err
	}
	model.SortRRsets(z, out)
	return out, serial, nil
}
