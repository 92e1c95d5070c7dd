package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/server"
	"github.com/stratusdns/stratus/pkg/client"
)

// loadConfig reads the config file named by --config or STRATUS_CONFIG; for
// client commands (userFile) also ~/.config/stratus/config.yaml when it
// exists. Without any, it returns the defaults.
func (a *app) loadConfig(userFile bool) (config.Config, error) {
	path := firstNonEmpty(a.configPath, os.Getenv("STRATUS_CONFIG"))
	if path == "" && userFile {
		if dir, err := os.UserConfigDir(); err == nil {
			p := filepath.Join(dir, "stratus", "config.yaml")
			if _, err := os.Stat(p); err == nil {
				path = p
			}
		}
	}
	if path == "" {
		return config.Default(), nil
	}
	c, err := config.Load(path)
	if err != nil {
		return c, usagef("%v", err)
	}
	return c, nil
}

// resolvedDataDir applies --data-dir and STRATUS_DATA_DIR over the config.
func (a *app) resolvedDataDir(c config.Config) string {
	return firstNonEmpty(a.dataDir, os.Getenv("STRATUS_DATA_DIR"), c.DataDir, config.DefaultDataDir)
}

// client builds an API client from flags, environment, config file and
// defaults, in that order.
func (a *app) client() (*apiClient, error) {
	c, err := a.loadConfig(true)
	if err != nil {
		return nil, err
	}
	srv := firstNonEmpty(a.server, os.Getenv("STRATUS_SERVER"), c.Client.Server, "http://"+c.API.Listen)
	if !strings.Contains(srv, "://") {
		srv = "http://" + srv
	}
	token := firstNonEmpty(a.token, os.Getenv("STRATUS_TOKEN"))
	if token == "" {
		file := firstNonEmpty(a.tokenFile, os.Getenv("STRATUS_TOKEN_FILE"))
		if file == "" && c.Client.Token != "" {
			token = c.Client.Token
		}
		if token == "" {
			if file == "" {
				file = firstNonEmpty(c.Client.TokenFile, filepath.Join(a.resolvedDataDir(c), server.AdminTokenFile))
			}
			b, err := os.ReadFile(file)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return nil, &authError{fmt.Sprintf("no API token: %s does not exist; pass --token-file or set STRATUS_TOKEN (the server writes its admin token to <data-dir>/%s at first start)", file, server.AdminTokenFile)}
			case err != nil:
				return nil, &authError{fmt.Sprintf("reading the API token: %v", err)}
			}
			token = strings.TrimSpace(string(b))
		}
	}
	return client.New(srv, token), nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// apiClient is the API client the commands use.
type apiClient = client.Client
