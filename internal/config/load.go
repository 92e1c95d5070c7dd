package config

import (
	"errors"
	"fmt"
	"os"

	"github.com/stratusdns/stratus/internal/yamlfile"
)

// Load reads the file at path over the defaults and validates the result.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(path, b)
}

// Parse reads YAML (named name in errors) over the defaults and validates
// the result.
func Parse(name string, data []byte) (Config, error) {
	c := Default()
	if err := yamlfile.Decode(data, &c, sections); err != nil && !errors.Is(err, yamlfile.ErrEmpty) {
		return Config{}, fmt.Errorf("config %s: %w", name, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", name, err)
	}
	return c, nil
}

// sections maps the struct types to their keys in the file.
var sections = map[string]string{
	"Config": "", "DNS": "dns.", "RRL": "dns.rrl.", "API": "api.", "Zones": "zones.", "Journal": "journal.", "Log": "log.", "Client": "client.",
	"Steering": "steering.", "Location": "steering.locations[].", "Drill": "drills[].",
	"Store": "store.", "Etcd": "store.etcd.", "EtcdTLS": "store.etcd.tls.", "Cluster": "cluster.", "Audit": "audit.",
	"APITLS": "api.tls.", "RateLimit": "api.rate_limit.",
	"QueryLog": "query_log.", "Dnstap": "dnstap.",
}
