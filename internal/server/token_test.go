package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
)

// TestRotateAdminTokenWritesFirst: --rotate-admin-token revokes the old
// admin token only once the new one is in admin.token. When the file
// cannot be written, the old token keeps working and the new one is
// withdrawn; a later rotation that can write replaces it.
func TestRotateAdminTokenWritesFirst(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	n := &Node{cfg: cfg, log: slog.New(slog.DiscardHandler), plane: controltest.Start(t, control.Options{}).Plane}
	path := filepath.Join(cfg.DataDir, AdminTokenFile)
	if err := n.ensureAdminToken(ctx, false); err != nil {
		t.Fatal(err)
	}
	old := readToken(t, path)

	// admin.token cannot be replaced: it is a directory holding a file.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := n.ensureAdminToken(ctx, true); err == nil {
		t.Fatal("rotation succeeded without writing admin.token")
	}
	if _, err := n.plane.Tokens.Authenticate(ctx, old); err != nil {
		t.Fatalf("the old admin token stopped working after a failed rotation: %v", err)
	}
	if toks, err := n.plane.Tokens.Tokens(ctx); err != nil || len(toks) != 1 {
		t.Fatalf("tokens after a failed rotation: %+v %v (want the old one only)", toks, err)
	}

	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if err := n.ensureAdminToken(ctx, true); err != nil {
		t.Fatal(err)
	}
	tok := readToken(t, path)
	if tok == old {
		t.Fatal("the rotation kept the old token")
	}
	if _, err := n.plane.Tokens.Authenticate(ctx, old); err == nil {
		t.Error("the old admin token still works after the rotation")
	}
	if _, err := n.plane.Tokens.Authenticate(ctx, tok); err != nil {
		t.Errorf("the new admin token: %v", err)
	}
	if toks, err := n.plane.Tokens.Tokens(ctx); err != nil || len(toks) != 1 || toks[0].Name != adminTokenName {
		t.Errorf("tokens after the rotation: %+v %v", toks, err)
	}
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
