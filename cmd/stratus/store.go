package main

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/server"
)

func (a *app) storeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Work on a store directly (no server)",
	}
	cmd.AddCommand(a.storeCopyCommand())
	return cmd
}

// storeFlags are the etcd connection flags, as in the config's store.etcd.
type storeFlags struct {
	caFile, certFile, keyFile, serverName string
	username, passwordFile                string
	dialTimeout                           time.Duration
	force                                 bool
}

// flagOf names a store.etcd key by the flag that sets it.
var flagOf = map[string]string{
	"endpoints": "the URL's hosts", "prefix": "the URL's path", "dial_timeout": "--etcd-dial-timeout",
	"username": "--etcd-username", "password_file": "--etcd-password-file",
	"tls.ca_file": "--etcd-ca-file", "tls.cert_file": "--etcd-cert-file", "tls.key_file": "--etcd-key-file",
}

func flagName(key string) string { return flagOf[key] }

func (a *app) storeCopyCommand() *cobra.Command {
	var (
		from, to string
		f        storeFlags
	)
	cmd := &cobra.Command{
		Use:   "copy --from STORE --to STORE",
		Short: "Copy every key of one store into another, then verify the copy",
		Long: `Copy every key and value of one store into another (bbolt to etcd, etcd to
bbolt, or between two etcd prefixes), then read both back and compare them
record for record: the number of keys and a SHA-256 of every key and value.

A store is named as
  bolt:PATH                                  the bbolt file (stratus.db in the data directory)
  etcd://HOST:PORT[,HOST:PORT...]/PREFIX/    an etcd cluster and the key prefix (store.etcd.prefix)

The etcd endpoints are reached over https when a TLS flag is given, else
over http. The flags match the config file's store.etcd section.

Do NOT run it while a server writes to the source: stop the server first.
A bbolt file held by a running server is refused; an etcd source is not
checked, so stop every server using it. The destination must be empty:
with --force its keys are deleted first. The copy is written in
transactions of at most 100 keys and 1 MiB, within etcd's default limits;
revisions start again in the destination, so a server on it reloads.`,
		Example: `  stratus store copy --from bolt:/var/lib/stratus/stratus.db --to etcd://10.0.0.1:2379,10.0.0.2:2379/stratus/
  stratus store copy --from etcd://127.0.0.1:2379/stratus/ --to bolt:./stratus-data/stratus.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return usagef("give both --from and --to")
			}
			src, err := f.parse(from, "--from")
			if err != nil {
				return err
			}
			dst, err := f.parse(to, "--to")
			if err != nil {
				return err
			}
			if src.String() == dst.String() {
				return usagef("--from and --to are the same store")
			}
			err = server.CopyStore(cmd.Context(), src, dst, f.force, a.stdout)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return usagef("%v", err)
			case errors.Is(err, server.ErrNotEmpty):
				return &conflictError{err.Error()}
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&from, "from", "", "source store: bolt:PATH or etcd://HOST:PORT[,HOST:PORT]/PREFIX/")
	fl.StringVar(&to, "to", "", "destination store, as --from; must be empty unless --force")
	fl.BoolVar(&f.force, "force", false, "delete the destination's keys first when it is not empty")
	fl.StringVar(&f.caFile, "etcd-ca-file", "", "CA certificate verifying etcd (store.etcd.tls.ca_file)")
	fl.StringVar(&f.certFile, "etcd-cert-file", "", "client certificate for etcd (store.etcd.tls.cert_file)")
	fl.StringVar(&f.keyFile, "etcd-key-file", "", "client certificate's key (store.etcd.tls.key_file)")
	fl.StringVar(&f.serverName, "etcd-server-name", "", "name checked in etcd's certificate (store.etcd.tls.server_name)")
	fl.StringVar(&f.username, "etcd-username", "", "etcd user (store.etcd.username)")
	fl.StringVar(&f.passwordFile, "etcd-password-file", "", "file holding the etcd user's password (store.etcd.password_file)")
	fl.DurationVar(&f.dialTimeout, "etcd-dial-timeout", config.DefaultEtcdDialTimeout, "how long to try reaching etcd (store.etcd.dial_timeout)")
	return cmd
}

// parse reads a store name given to flag, checking the etcd flags with it.
func (f *storeFlags) parse(v, flag string) (server.StoreSpec, error) {
	switch {
	case strings.HasPrefix(v, "bolt:"):
		p := strings.TrimPrefix(v, "bolt:")
		if p == "" {
			return server.StoreSpec{}, usagef("%s %q: name the file, bolt:PATH", flag, v)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return server.StoreSpec{}, usagef("%s %q: %v", flag, v, err)
		}
		return server.StoreSpec{Bolt: abs}, nil
	case strings.HasPrefix(v, "etcd://"):
		rest := strings.TrimPrefix(v, "etcd://")
		hosts, prefix, _ := strings.Cut(rest, "/")
		if hosts == "" {
			return server.StoreSpec{}, usagef("%s %q: name the etcd hosts, etcd://HOST:PORT[,HOST:PORT]/PREFIX/", flag, v)
		}
		if prefix == "" {
			prefix = config.DefaultEtcdPrefix
		}
		scheme := "http://"
		if f.caFile != "" || f.certFile != "" || f.serverName != "" {
			scheme = "https://"
		}
		e := &config.Etcd{Prefix: prefix, Username: f.username, PasswordFile: f.passwordFile, DialTimeout: f.dialTimeout}
		for _, h := range strings.Split(hosts, ",") {
			e.Endpoints = append(e.Endpoints, scheme+h)
		}
		if scheme == "https://" {
			e.TLS = &config.EtcdTLS{CAFile: f.caFile, CertFile: f.certFile, KeyFile: f.keyFile, ServerName: f.serverName}
		}
		if err := e.Check(flagName); err != nil {
			return server.StoreSpec{}, usagef("%s %q: %v", flag, v, err)
		}
		return server.StoreSpec{Etcd: e, Name: flagName}, nil
	}
	return server.StoreSpec{}, usagef("%s %q: name a store as bolt:PATH or etcd://HOST:PORT[,HOST:PORT]/PREFIX/", flag, v)
}

// conflictError is a refusal because of the state found (exit code 4).
type conflictError struct{ msg string }

func (e *conflictError) Error() string { return e.msg }
