package server

import (
	"context"
	"path/filepath"
	"time"

	"github.com/stratusdns/stratus/internal/audit"
)

// AuditKeyFile is the default name of the audit key's file in the data
// directory.
const AuditKeyFile = "audit.key"

// auditKey loads the audit key from audit.key_file, making it at first
// start.
func (s *Node) auditKey() ([]byte, error) {
	path := s.cfg.Audit.KeyFile
	if path == "" {
		path = filepath.Join(s.cfg.DataDir, AuditKeyFile)
	}
	key, created, err := audit.LoadKey(path, true)
	if err != nil {
		return nil, err
	}
	if created {
		s.log.Info("audit key created; give every node of a cluster the same file", "file", path)
	}
	return key, nil
}

// auditPruneEvery is how often the leader prunes the audit log.
const auditPruneEvery = time.Hour

// pruneAudit prunes the audit log at the start of the term and then
// every auditPruneEvery.
func (s *Node) pruneAudit(ctx context.Context) {
	t := time.NewTicker(auditPruneEvery)
	defer t.Stop()
	for {
		if _, err := s.plane.Audit.Prune(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("pruning the audit log failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
