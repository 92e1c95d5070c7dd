package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
	"github.com/stratusdns/stratus/internal/store/etcd"
)

// openStore opens the configured store: the etcd engine with store.etcd,
// else the bbolt file in the data directory.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	if cfg.Store.Etcd == nil {
		return bolt.Open(filepath.Join(cfg.DataDir, StoreFile), bolt.Options{})
	}
	return OpenEtcd(ctx, cfg.Store.Etcd, func(key string) string { return "store.etcd." + key }, log)
}

// storeName says where the store is, for the log.
func storeName(cfg config.Config) string {
	if e := cfg.Store.Etcd; e != nil {
		return "etcd " + strings.Join(e.Endpoints, ",") + " prefix " + e.Prefix
	}
	return "bbolt " + filepath.Join(cfg.DataDir, StoreFile)
}

// EtcdOptions turns a store.etcd section into the engine's options,
// reading the TLS and password files; name names a key in errors.
func EtcdOptions(e *config.Etcd, name func(key string) string) (etcd.Options, error) {
	opts := etcd.Options{Endpoints: e.Endpoints, Prefix: e.Prefix, Username: e.Username, DialTimeout: e.DialTimeout, RequestTimeout: e.RequestTimeout}
	tc, err := e.TLSConfig(name)
	if err != nil {
		return etcd.Options{}, err
	}
	opts.TLS = tc
	if e.Username != "" {
		if opts.Password, err = e.Password(); err != nil {
			return etcd.Options{}, fmt.Errorf("%s: %w", name("password_file"), err)
		}
	}
	return opts, nil
}

// OpenEtcd opens the etcd engine for e, logging to log (nil: nowhere).
// When etcd cannot be reached within the dial timeout, the error names
// the endpoints.
func OpenEtcd(ctx context.Context, e *config.Etcd, name func(key string) string, log *slog.Logger) (*etcd.Store, error) {
	opts, err := EtcdOptions(e, name)
	if err != nil {
		return nil, err
	}
	opts.Logger = log
	st, err := etcd.Open(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot reach etcd at %s: %w", strings.Join(e.Endpoints, ", "), err)
	}
	return st, nil
}

// mkdirData creates the data directory (the admin token lives there with
// either engine), or makes an existing one private (secureDataDir).
func mkdirData(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	return secureDataDir(dir, log)
}
