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
// store yet, checked in the transaction that creates it) and writes it to
// <dataDir>/admin.token with mode 0600. With rotate, it replaces the admin
// token and rewrites the file, in an order that never leaves the store
// without a working admin token: the new token is stored, then written
// to the file, and only then are the old ones revoked. When the file
// cannot be written the new token is withdrawn and the old one keeps
// working. The token is never logged.
func (s *Node) ensureAdminToken(ctx context.Context, rotate bool) error {
	path := filepath.Join(s.cfg.DataDir, AdminTokenFile)
	local := auth.Local("stratus serve")
	if rotate {
		tok, rec, err := s.plane.Tokens.CreateToken(ctx, adminTokenName, []string{auth.ScopeAll}, local)
		if err != nil {
			return err
		}
		if err := writeSecretFile(path, tok+"\n"); err != nil {
			if derr := s.plane.Tokens.DeleteToken(ctx, rec.ID, local); derr != nil {
				s.log.Warn("withdrawing the new admin token after failing to write it", "id", rec.ID, "err", derr)
			}
			return fmt.Errorf("writing the admin token (the old one still works): %w", err)
		}
		if _, err := s.plane.Tokens.RetireTokens(ctx, adminTokenName, rec.ID, local); err != nil {
			return fmt.Errorf("revoking the old admin token (the new one is in %s): %w", path, err)
		}
		s.log.Info("admin token rotated and written", "path", path)
		return nil
	}
	tok, _, created, err := s.plane.Tokens.CreateFirstToken(ctx, adminTokenName, []string{auth.ScopeAll}, "stratus serve")
	if err != nil {
		return err
	}
	if !created {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("the admin token file is missing; restart with --rotate-admin-token to issue a new one", "path", path)
		}
		return nil
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
