package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/stratusdns/stratus/internal/auth"
)

// AdminTokenFile is the name of the admin token's file in the data
// directory.
const AdminTokenFile = "admin.token"

// adminTokenName is the name of the token created at first start.
const adminTokenName = "admin"

// ensureAdminToken creates the admin token at first start (no token in the
// store yet, checked in the transaction that creates it) and writes it to <dataDir>/admin.token with mode 0600. With
// rotate, it replaces the admin token and rewrites the file. The token is
// never logged.
func (s *Node) ensureAdminToken(ctx context.Context, rotate bool) error {
	path := filepath.Join(s.cfg.DataDir, AdminTokenFile)
	var tok string
	var err error
	if rotate {
		tok, _, err = s.plane.Tokens.ReplaceToken(ctx, adminTokenName, []string{auth.ScopeAll}, auth.Local("stratus serve"))
	} else {
		var created bool
		tok, _, created, err = s.plane.Tokens.CreateFirstToken(ctx, adminTokenName, []string{auth.ScopeAll}, "stratus serve")
		if err == nil && !created {
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				s.log.Warn("the admin token file is missing; restart with --rotate-admin-token to issue a new one", "path", path)
			}
			return nil
		}
	}
	if err != nil {
		return err
	}
	if err := writeSecretFile(path, tok+"\n"); err != nil {
		return fmt.Errorf("writing the admin token: %w", err)
	}
	s.log.Info("admin token written", "path", path)
	return nil
}

// writeSecretFile writes data to path with mode 0600, atomically.
func writeSecretFile(path, data string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".token-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
