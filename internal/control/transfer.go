package control

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
)

// ZoneTransfer is one zone as an outgoing zone transfer sends it, read in
// one store transaction so that serial, records and journal agree.
type ZoneTransfer struct {
	Settings model.ZoneSettings
	SOA      *model.RRset
	Serial   uint32
	// Incremental means Journal holds every change from the requested
	// serial to Serial (none when the secondary is up to date); otherwise
	// Records holds every RRset of the zone but the SOA, steered answers
	// included, for a full transfer.
	Incremental bool
	Journal     []JournalEntry
	Records     []*model.RRset
}

// ReadTransfer reads zone z for a secondary. since is the serial the
// secondary has (IXFR), or nil for a full transfer (AXFR); an IXFR the
// journal cannot serve becomes a full transfer. allow sees the zone's
// settings before anything else is read and may refuse with an error,
// which ReadTransfer returns. Nothing stays locked once it returns: the
// records are copied out, so a slow secondary holds up no writer.
func (s *Service) ReadTransfer(ctx context.Context, z model.Name, since *uint32, allow func(*model.ZoneSettings) error) (*ZoneTransfer, error) {
	var out *ZoneTransfer
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		if err := allow(&zr.ZoneSettings); err != nil {
			return err
		}
		if zr.IsSecondary() && zr.Secondary.Refreshed.IsZero() || zr.Secondary.Expired {
			return fmt.Errorf("%w: %s has no data yet, or has expired", ErrZoneNotLoaded, z)
		}
		serial, soa, err := zoneSerial(tx, z)
		if err != nil {
			return err
		}
		out = &ZoneTransfer{Settings: zr.ZoneSettings, SOA: soa, Serial: serial}
		if since != nil {
			if !model.SerialLess(*since, serial) {
				out.Incremental = true // up to date, or ahead: the SOA alone
				return nil
			}
			entries, ok, err := journalChain(tx, z, *since, serial)
			if err != nil {
				return err
			}
			if ok {
				out.Incremental, out.Journal = true, entries
				return nil
			}
		}
		err = tx.Scan(zoneRRsetPrefix(z), "", func(key string, value []byte) error {
			_, k, ok := parseRRsetKey(key)
			if !ok || (k.Type == model.TypeSOA && k.Name == z) {
				return nil
			}
			set, err := decodeRRset(k, value)
			if err != nil {
				return err
			}
			out.Records = append(out.Records, set)
			return nil
		})
		if err != nil {
			return err
		}
		return scanSteered(tx, z, func(set *model.RRset) error {
			out.Records = append(out.Records, set)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// journalChain returns the journal entries leading from serial from to
// serial to, oldest first, and whether the journal holds them all (none
// of them a reset).
func journalChain(tx store.ReadTx, z model.Name, from, to uint32) ([]JournalEntry, bool, error) {
	var chain []JournalEntry
	started := false
	err := tx.Scan(journalPrefix(z), "", func(key string, value []byte) error {
		var e JournalEntry
		if err := json.Unmarshal(value, &e); err != nil {
			return fmt.Errorf("control: corrupt journal entry %s: %w", key, err)
		}
		if !started {
			if e.OldSerial != from || e.Reset {
				return nil
			}
			started = true
		}
		if e.Reset || (len(chain) > 0 && e.OldSerial != chain[len(chain)-1].NewSerial) {
			chain = nil
			return store.ErrStopScan
		}
		chain = append(chain, e)
		return nil
	})
	if err != nil || len(chain) == 0 || chain[len(chain)-1].NewSerial != to {
		return nil, false, err
	}
	return chain, true, nil
}
