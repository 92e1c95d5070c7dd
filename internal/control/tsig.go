package control

import (
	"context"
	"slices"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// CreateTSIGKey stores a new TSIG key. algorithm "" is hmac-sha256; secret
// "" generates one (base64 otherwise, as BIND's tsig-keygen prints it). The
// secret is returned now and never listed again.
func (s *TSIGKeys) CreateTSIGKey(ctx context.Context, name, algorithm, secret, actor string) (*model.TSIGKey, error) {
	k, err := model.NewTSIGKey(name, algorithm, secret)
	if err != nil {
		return nil, err
	}
	k.Created = s.opts.Clock().UTC()
	b, err := schema.EncodeTSIGKey(k)
	if err != nil {
		return nil, err
	}
	_, err = s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		_, ok, err := tx.Get(schema.TSIGKey(k.Name))
		if err != nil {
			return err
		}
		if ok {
			return ErrTSIGKeyExists
		}
		if err := tx.Put(schema.TSIGKey(k.Name), b); err != nil {
			return err
		}
		return tx.tsigChange(ctx, k.Name, "tsig.create", "algorithm "+k.Algorithm, actor)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("tsig key created", "name", k.Name, "algorithm", k.Algorithm, "by", actor)
	return k, nil
}

// TSIGKey returns one key, secret included (the API never shows it).
func (s *TSIGKeys) TSIGKey(ctx context.Context, name string) (*model.TSIGKey, error) {
	n, err := model.ParseName(name)
	if err != nil {
		return nil, model.Errorf("name", "%v", err)
	}
	var k *model.TSIGKey
	err = s.st.View(ctx, func(tx store.ReadTx) error {
		key := schema.TSIGKey(n)
		b, ok, err := tx.Get(key)
		if err != nil {
			return err
		}
		if !ok {
			return ErrTSIGKeyNotFound
		}
		k, err = schema.DecodeTSIGKey(key, b)
		return err
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// TSIGKeys returns every key in canonical name order, secrets included.
func (s *TSIGKeys) TSIGKeys(ctx context.Context) ([]model.TSIGKey, error) {
	var out []model.TSIGKey
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		out = nil
		return tx.Scan(schema.PrefixTSIG, "", func(key string, value []byte) error {
			k, err := schema.DecodeTSIGKey(key, value)
			if err != nil {
				return err
			}
			out = append(out, *k)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b model.TSIGKey) int { return model.CompareCanonical(a.Name, b.Name) })
	return out, err
}

// DeleteTSIGKey deletes a key; peers signing with it are refused from then
// on.
func (s *TSIGKeys) DeleteTSIGKey(ctx context.Context, name, actor string) error {
	n, err := model.ParseName(name)
	if err != nil {
		return model.Errorf("name", "%v", err)
	}
	_, err = s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		_, ok, err := tx.Get(schema.TSIGKey(n))
		if err != nil {
			return err
		}
		if !ok {
			return ErrTSIGKeyNotFound
		}
		users, err := zonesUsingKey(tx, n)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return inUse("name", "zone %s still uses the key %s; change its ACLs and notify targets first", users[0], n)
		}
		if err := tx.Delete(schema.TSIGKey(n)); err != nil {
			return err
		}
		return tx.tsigChange(ctx, n, "tsig.delete", "", actor)
	})
	if err != nil {
		return err
	}
	s.log.Info("tsig key deleted", "name", n, "by", actor)
	return nil
}
