package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
)

// Options configure a Service. Zero values mean the defaults.
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
}

// Defaults for Options.
const (
	DefaultJournalMaxEntries      = 1000
	DefaultJournalMaxSteered      = 100
	DefaultJournalMaxEntryRecords = 100000
	DefaultPublishTimeout         = 30 * time.Second
)

// Service is the control plane. It is safe for concurrent use.
type Service struct {
	st   store.Store
	pub  Publisher
	opts Options
	log  *slog.Logger
}

// New returns a Service writing to st. When pub is not nil, every write
// waits until pub serves it before returning (read-your-writes).
func New(st store.Store, pub Publisher, opts Options) *Service {
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
	return &Service{st: st, pub: pub, opts: opts, log: log}
}

// ErrNotServed means a change was committed durably but the DNS server did
// not start serving it in time.
var ErrNotServed = errors.New("change committed but not yet served")

// published waits until the snapshot with revision rev is served.
func (s *Service) published(ctx context.Context, rev store.Revision) error {
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

func (s *Service) commitOptions(actor string, ownerField func(model.Name) string) commitOptions {
	return commitOptions{
		now:               s.opts.Clock().UTC(),
		actor:             actor,
		journal:           journalBounds{max: s.opts.JournalMaxEntries, maxSteered: s.opts.JournalMaxSteeredEntries},
		journalMaxRecords: s.opts.JournalMaxEntryRecords,
		ownerField:        ownerField,
	}
}
