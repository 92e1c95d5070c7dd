package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/internal/drill"
	"github.com/stratusdns/stratus/internal/server"
)

func (a *app) serveCommand() *cobra.Command {
	var (
		dnsListen []string
		apiListen string
		insecure  bool
		demo      bool
		logLevel  string
		logFormat string
		rotate    bool
		grace     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the DNS server and its API",
		Long: `Run the authoritative DNS server and its HTTP API.

State lives in the data directory (--data-dir, default ./stratus-data): the
store and, after the first start, the admin token (admin.token, mode 0600)
that the client commands use by default. With store.etcd in the config
file, the store is kept in etcd instead and the admin token stays in the
data directory; when etcd cannot be reached within store.etcd.dial_timeout,
serve exits with an error naming the endpoints.

Flags override the config file (--config), which overrides the defaults:
DNS on 127.0.0.1:1053 (UDP and TCP), API on 127.0.0.1:8053.

The API speaks HTTPS with api.tls in the config file. Plain HTTP on an
address other than loopback is refused (tokens would cross the network in
clear) unless --api-insecure-http or api.allow_insecure_http says so.

SIGTERM or SIGINT stops gracefully; a second signal stops at once.`,
		Example: `  stratus serve --demo
  dig @127.0.0.1 -p 1053 www.demo.stratus.test`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(false)
			if err != nil {
				return err
			}
			cfg.DataDir = a.resolvedDataDir(cfg)
			f := cmd.Flags()
			if f.Changed("dns-listen") {
				cfg.DNS.Listen = dnsListen
			}
			if f.Changed("api-listen") {
				cfg.API.Listen = apiListen
			}
			if insecure {
				cfg.API.AllowInsecureHTTP = true
			}
			if demo {
				cfg.Zones.Demo = true
			}
			if f.Changed("log-level") {
				cfg.Log.Level = logLevel
			}
			if f.Changed("log-format") {
				cfg.Log.Format = logFormat
			}
			if err := cfg.Validate(); err != nil {
				return usagef("%v", err)
			}
			// The scenario files are read again at start; read now, a bad
			// one is a usage error and nothing starts.
			if _, err := drill.LoadScheduled(cfg.Drills); err != nil {
				return usagef("%v", err)
			}
			log := server.NewLogger(a.stderr, cfg.Log)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sigs := make(chan os.Signal, 2)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sigs)
			go func() {
				sig := <-sigs
				log.Info("shutting down; send the signal again to stop at once", "signal", sig.String())
				cancel()
				<-sigs
				log.Warn("second signal: stopping now")
				os.Exit(exitError)
			}()

			srv := server.New(cfg, server.Options{RotateAdminToken: rotate}, log)
			if err := srv.Start(ctx); err != nil {
				return fmt.Errorf("start: %w", err)
			}
			<-ctx.Done()
			sctx, scancel := context.WithTimeout(context.Background(), grace)
			defer scancel()
			if err := srv.Shutdown(sctx); err != nil {
				log.Warn("shutdown was not clean", "err", err)
			}
			log.Info("stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&dnsListen, "dns-listen", nil, "DNS listen addresses ip:port, UDP and TCP (repeatable; default 127.0.0.1:1053)")
	f.StringVar(&apiListen, "api-listen", "", "API listen address ip:port (default 127.0.0.1:8053)")
	f.BoolVar(&insecure, "api-insecure-http", false, "serve the API over plain HTTP on an address that is not loopback (api.allow_insecure_http)")
	f.BoolVar(&demo, "demo", false, "create the demo zone demo.stratus.test. if it is missing")
	f.StringVar(&logLevel, "log-level", "", "debug, info, warn or error (default info)")
	f.StringVar(&logFormat, "log-format", "", "text or json (default text)")
	f.BoolVar(&rotate, "rotate-admin-token", false, "replace the admin token and rewrite <data-dir>/admin.token (the old token is revoked once the file is written)")
	f.DurationVar(&grace, "shutdown-grace", 10*time.Second, "how long a graceful shutdown waits for requests in flight")
	return cmd
}
