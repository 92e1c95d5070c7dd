package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "audit.key")
	if _, _, err := LoadKey(path, false); err == nil {
		t.Fatal("a missing key file without create: no error")
	}
	key, created, err := LoadKey(path, true)
	if err != nil || !created || len(key) != KeySize {
		t.Fatalf("first start: %d bytes, created %t, %v", len(key), created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	again, created, err := LoadKey(path, true)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Fatalf("second start: created %t, same key %t, %v", created, bytes.Equal(again, key), err)
	}
	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		want    string
	}{
		{"short", []byte("too short"), 0o600, "holds 9 bytes, want 32"},
		{"others may read it", key, 0o640, "lets others read it"},
	}
	for _, tc := range tests {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, tc.content, tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, tc.mode); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadKey(p, true); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming the file and %q", tc.name, err, tc.want)
		}
	}
}

func TestOrigin(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Error("an origin in an empty context")
	}
	ctx := WithOrigin(context.Background(), Token("t_1", "ops"), "192.0.2.1:5")
	o, ok := FromContext(ctx)
	if !ok || o.Actor.String() != "token:ops (t_1)" || o.Source != "192.0.2.1:5" {
		t.Errorf("origin %+v %t", o, ok)
	}
	if a := TSIG(""); a.String() != "tsig:unsigned" {
		t.Errorf("unsigned: %s", a)
	}
}

func TestMAC(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, KeySize), bytes.Repeat([]byte{2}, KeySize)
	if MAC(k1, []byte("m")) == MAC(k2, []byte("m")) || MAC(k1, []byte("m")) == MAC(k1, []byte("n")) {
		t.Error("the MAC does not depend on the key and the message")
	}
	if !Equal(MAC(k1, []byte("m")), MAC(k1, []byte("m"))) {
		t.Error("equal MACs differ")
	}
	d1, d2 := DigestKey(k1), DigestKey(k2)
	if Digest(d1, nil, false) != "" || Digest(d1, nil, true) == "" {
		t.Error("digests of absent and empty values")
	}
	// A digest is keyed: without the audit key nobody can test a guess
	// of a stored secret against it (plain SHA-256 of "Bearer x").
	v := []byte("Bearer x")
	plain := sha256.Sum256(v)
	if g := Digest(d1, v, true); g == hex.EncodeToString(plain[:]) || g == Digest(d2, v, true) || g != MAC(d1, v) {
		t.Errorf("digest %s: not keyed by the digest key", g)
	}
	if bytes.Equal(d1, k1) {
		t.Error("the digest key is the audit key itself")
	}
}

func TestKeyID(t *testing.T) {
	a, b := []byte("0123456789abcdef0123456789abcdef"), []byte("ZZZZ456789abcdef0123456789abcdef")
	if again := KeyID(append([]byte(nil), a...)); KeyID(a) != again || KeyID(a) == KeyID(b) {
		t.Errorf("key ids: %s %s", KeyID(a), KeyID(b))
	}
	if KeyID(a) == MAC(a, []byte("stratus audit digest v1")) {
		t.Errorf("the key id is the digest key")
	}
}
