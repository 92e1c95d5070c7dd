package control

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/stratusdns/stratus/internal/audit"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
)

// Options configure the control plane. Zero values mean the defaults.
type Options struct {
	// JournalMaxEntries bounds each zone's journal (default 1000 entries);
	// older entries are compacted away as new ones arrive.
	JournalMaxEntries int
	// JournalMaxSteeredEntries bounds, apart from JournalMaxEntries, the
	// entries of changes of the steered answers alone (actor "steering";
	// default 100), so that they never push other changes out.
	JournalMaxSteeredEntries int
	// JournalMaxEntryRecords: a change touching more records than this is
	// journaled without its records, as a Reset entry (default 100,000).
	JournalMaxEntryRecords int
	// PublishTimeout bounds the wait for a committed change to be served
	// (default 30s).
	PublishTimeout time.Duration
	// Clock returns the time; tests replace it.
	Clock func() time.Time
	// Logger receives the control plane's logs.
	Logger *slog.Logger
	// AuditKey keys the MACs of the audit log (audit.KeySize bytes, kept
	// out of the store); nil means a random key of this plane's own,
	// which no other plane can verify (tests, tools).
	AuditKey []byte
	// AuditRetention is how long audit entries are kept
	// (Audit.Prune; default 90 days).
	AuditRetention time.Duration
}

// Defaults for Options.
const (
	DefaultJournalMaxEntries      = 1000
	DefaultJournalMaxSteered      = 100
	DefaultJournalMaxEntryRecords = 100000
	DefaultPublishTimeout         = 30 * time.Second
	DefaultAuditRetention         = 90 * 24 * time.Hour
)

// core is what every part of the control plane shares: the store it
// writes, the publisher whose snapshots a write waits for, the options and
// the logger. Each part embeds it, so a method reads them as s.st, s.pub,
// s.opts and s.log.
type core struct {
	st       store.Store
	pub      Publisher
	opts     Options
	log      *slog.Logger
	auditKey []byte
	// digestKey keys the digests of stored values in audit entries
	// (audit.DigestKey).
	digestKey []byte
}

// Plane is the control plane: one part per resource group, all writing to
// one store and waiting for one publisher. It only wires them: a caller
// takes the part it needs. Every part is safe for concurrent use.
type Plane struct {
	Zones          *Zones
	Secondaries    *Secondaries
	SteeredAnswers *SteeredAnswers
	Services       *Services
	Endpoints      *Endpoints
	Tokens         *Tokens
	TSIGKeys       *TSIGKeys
	DrillRuns      *DrillRuns
	Audit          *Audit
	Webhooks       *Webhooks
}

// Zones owns the zones of this server and their records: creating,
// changing and deleting zones and RRsets, zone-file imports, the journal,
// RFC 2136 dynamic updates and the reads of zone transfers (zones.go,
// zonesettings.go, apply.go, read.go, importzone.go, journal.go,
// update.go, transfer.go).
type Zones struct{ *core }

// Secondaries owns secondary zones: their creation, and what the refresh
// loop of internal/secondary reads and writes — the zones' primaries and
// state, the content transferred from a primary, refresh and expiry
// (secondary.go).
type Secondaries struct {
	*core
	skips skipLog // of SecondaryZones
}

// SteeredAnswers owns the steered answers kept for secondaries, written
// apart from the zones' records but journaled with them (steered.go).
type SteeredAnswers struct{ *core }

// Services owns steered services: their definitions and the overrides of
// their pools (services.go).
type Services struct{ *core }

// Endpoints owns the endpoints of services: registration, leases,
// overrides, pushed health and the reaping of lapsed leases
// (endpoints.go).
type Endpoints struct {
	*core
	skips    skipLog // of the lease reaper's listing
	renewals renewGroup
}

// Tokens owns the API's tokens and authenticates bearer tokens
// (tokens.go), and keeps their last use (lastuse.go).
type Tokens struct {
	*core
	// table holds the stored tokens as the publisher has seen them (nil
	// without a TokenFollower): Authenticate reads it before the store.
	table *auth.Table
	// used holds the tokens' last uses not yet written (lastuse.go).
	used lastUse
}

// TSIGKeys owns the TSIG keys that sign transfers, NOTIFY and updates
// (tsig.go).
type TSIGKeys struct{ *core }

// DrillRuns owns the kept reports of failover drills (drillruns.go).
type DrillRuns struct{ *core }

// Audit owns the audit log's reads: listing, verification and pruning
// (auditlog.go). Its entries are written by every other part, in the
// transaction of the change (audit.go).
type Audit struct{ *core }

// New returns the control plane writing to st. When pub is not nil, every
// write waits until pub serves it before returning (read-your-writes).
// pub may be nil — untyped, or a nil pointer such as a nil
// *publish.Publisher — for a plane whose writes wait for no publisher
// (tools, tests of the store alone).
func New(st store.Store, pub Publisher, opts Options) *Plane {
	if v := reflect.ValueOf(pub); pub != nil && v.Kind() == reflect.Pointer && v.IsNil() {
		pub = nil
	}
	if opts.JournalMaxEntries <= 0 {
		opts.JournalMaxEntries = DefaultJournalMaxEntries
	}
	if opts.JournalMaxSteeredEntries <= 0 {
		opts.JournalMaxSteeredEntries = DefaultJournalMaxSteered
	}
	if opts.JournalMaxEntryRecords <= 0 {
		opts.JournalMaxEntryRecords = DefaultJournalMaxEntryRecords
	}
	if opts.PublishTimeout <= 0 {
		opts.PublishTimeout = DefaultPublishTimeout
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.AuditRetention <= 0 {
		opts.AuditRetention = DefaultAuditRetention
	}
	key := opts.AuditKey
	if len(key) == 0 {
		key = make([]byte, audit.KeySize)
		if _, err := rand.Read(key); err != nil {
			panic(err) // crypto/rand does not fail (Go 1.24)
		}
	}
	c := &core{st: st, pub: pub, opts: opts, log: log, auditKey: key, digestKey: audit.DigestKey(key)}
	tokens := &Tokens{core: c}
	if tf, ok := pub.(TokenFollower); ok {
		tokens.table = tf.Tokens()
	}
	return &Plane{
		Zones:          &Zones{c},
		Secondaries:    &Secondaries{core: c},
		SteeredAnswers: &SteeredAnswers{c},
		Services:       &Services{c},
		Endpoints:      &Endpoints{core: c},
		Tokens:         tokens,
		TSIGKeys:       &TSIGKeys{c},
		DrillRuns:      &DrillRuns{c},
		Audit:          &Audit{c},
		Webhooks:       &Webhooks{c},
	}
}

// ErrNotServed means a change was committed durably but the DNS server did
// not start serving it in time.
var ErrNotServed = errors.New("change committed but not yet served")

// published waits until the snapshot with revision rev is served.
func (s *core) published(ctx context.Context, rev store.Revision) error {
	if s.pub == nil || rev == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.PublishTimeout)
	defer cancel()
	if err := s.pub.WaitFor(ctx, rev); err != nil {
		return fmt.Errorf("%w (revision %d): %v", ErrNotServed, rev, err)
	}
	return nil
}

func (s *core) commitOptions(ctx context.Context, tx store.Tx, actor string, ownerField func(model.Name) string) commitOptions {
	return commitOptions{
		auditAction:       auditAction(ctx, "zone.change"),
		audit:             func(c auditChange) error { return s.appendAudit(ctx, tx, actor, c) },
		now:               s.opts.Clock().UTC(),
		actor:             actor,
		journal:           journalBounds{max: s.opts.JournalMaxEntries, maxSteered: s.opts.JournalMaxSteeredEntries},
		journalMaxRecords: s.opts.JournalMaxEntryRecords,
		ownerField:        ownerField,
		digestKey:         s.digestKey,
	}
}
