package server

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// ownerOf is fileOwner; tests replace it.
var ownerOf = fileOwner

// secureDataDir keeps the data directory and the files in it that hold
// secrets or the store (stratus.db, admin.token) private to the user
// running Stratus. One of them that group or others may read or write is
// tightened (0700 for the directory, 0600 for files) with a line in the
// log saying so when the running user owns it; when another user owns
// it, Stratus cannot know who else may read it and refuses to start.
func secureDataDir(dir string, log *slog.Logger) error {
	paths := []struct {
		path string
		mode fs.FileMode
	}{{dir, 0o700}, {filepath.Join(dir, StoreFile), 0o600}, {filepath.Join(dir, AdminTokenFile), 0o600}}
	for _, p := range paths {
		fi, err := os.Stat(p.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		perm := fi.Mode().Perm()
		if perm&0o077 == 0 {
			continue
		}
		if owner, me, ok := ownerOf(fi); ok && owner != me {
			return fmt.Errorf("data directory: %s has mode %04o (group or others may use it) and belongs to user %d, not to the user running stratus (%d); "+
				"make it theirs (chown) or private (chmod %04o)", p.path, perm, owner, me, p.mode)
		}
		if err := os.Chmod(p.path, p.mode); err != nil {
			return fmt.Errorf("data directory: tightening the mode of %s: %w", p.path, err)
		}
		log.Warn("data directory: group or others had access; tightened", "path", p.path, "mode", fmt.Sprintf("%04o", perm), "now", fmt.Sprintf("%04o", p.mode))
	}
	return nil
}
