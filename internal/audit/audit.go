// Package audit holds what the audit log needs besides the store: who
// acts (Actor) and from where, carried in a request's context from the
// edge (the API, the DNS update path) to the control plane's write
// transactions; the audit key, kept in a file outside the store; and the
// HMAC-SHA256 that chains the entries of each stream with it. The entries
// themselves are written by internal/control, in the transaction of the
// change they record, under the keys and codecs of internal/schema.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Kinds of actor.
const (
	KindToken  = "token"  // an API token (ID and Name)
	KindTSIG   = "tsig"   // a DNS client: the TSIG key it signed with, or "unsigned"
	KindSystem = "system" // the server's own work: Name says what
)

// Actor is who made a change.
type Actor struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// Token is the actor of a request authenticated with an API token.
func Token(id, name string) Actor { return Actor{Kind: KindToken, ID: id, Name: name} }

// TSIG is the actor of a DNS message signed with key ("" when unsigned).
func TSIG(key string) Actor {
	if key == "" {
		key = "unsigned"
	}
	return Actor{Kind: KindTSIG, Name: key}
}

// System is the actor of the server's own work; what names it
// ("lease-reaper", "secondary", ...).
func System(what string) Actor { return Actor{Kind: KindSystem, Name: what} }

// String renders the actor as the CLI shows it: "token:ops (t_abc)",
// "tsig:key.", "system:lease-reaper".
func (a Actor) String() string {
	s := a.Kind + ":" + a.Name
	if a.ID != "" {
		s += " (" + a.ID + ")"
	}
	return s
}

// Origin is who acts and from where: the remote address of the API
// request or of the DNS client ("" for the server's own work).
type Origin struct {
	Actor  Actor
	Source string
}

type originKey struct{}

// WithOrigin returns ctx carrying who acts and from where.
func WithOrigin(ctx context.Context, a Actor, source string) context.Context {
	return context.WithValue(ctx, originKey{}, Origin{Actor: a, Source: source})
}

// FromContext returns the origin WithOrigin put in ctx.
func FromContext(ctx context.Context) (Origin, bool) {
	o, ok := ctx.Value(originKey{}).(Origin)
	return o, ok
}

// KeySize is the size of an audit key in bytes.
const KeySize = 32

// LoadKey reads the audit key from path. When the file does not exist
// and create is set, it writes a new random key there (mode 0600) and
// reports true. A file of another size, or readable by others than its
// owner, is an error naming the path.
func LoadKey(path string, create bool) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist) && create:
		key = make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, false, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("audit key %s: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, fs.ErrExist) { // another process made it first
				return LoadKey(path, false)
			}
			return nil, false, fmt.Errorf("audit key %s: %w", path, err)
		}
		_, err = f.Write(key)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = syncDir(filepath.Dir(path))
		}
		if err != nil {
			return nil, false, fmt.Errorf("audit key %s: %w", path, err)
		}
		return key, true, nil
	default:
		return nil, false, fmt.Errorf("audit key %s: %w", path, err)
	}
	if len(b) != KeySize {
		return nil, false, fmt.Errorf("audit key %s: holds %d bytes, want %d random bytes (every node of a cluster needs the same file)", path, len(b), KeySize)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("audit key %s: mode %v lets others read it; chmod 600 it", path, fi.Mode().Perm())
	}
	return b, false, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// MAC returns the hex HMAC-SHA256 of msg under key.
func MAC(key, msg []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// Equal compares two MACs in constant time.
func Equal(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }

// DigestKey derives from the audit key the key of the digests of stored
// values (Digest): stored values can hold secrets of little entropy (a
// health check's header, a TSIG secret an operator chose), so a digest
// anyone could compute would let a reader of the log test guesses of them.
func DigestKey(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("stratus audit digest v1"))
	return m.Sum(nil)
}

// KeyID returns the identity of key that the store keeps to tell one
// audit key from another: a MAC under it, which does not reveal it.
func KeyID(key []byte) string { return MAC(key, []byte("stratus audit key id")) }

// Digest returns the hex HMAC-SHA256 of a stored value under the digest
// key (DigestKey); "" when absent.
func Digest(dkey, value []byte, present bool) string {
	if !present {
		return ""
	}
	return MAC(dkey, value)
}
