package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
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
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("config %s: %s", name, yamlMessage(err))
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("config %s: only one YAML document is allowed", name)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", name, err)
	}
	return c, nil
}

var (
	unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type config\.(\w+)`)
	cannot       = regexp.MustCompile(`line (\d+): cannot unmarshal !!(\w+) ` + "`" + `([^` + "`" + `]*)` + "`" + ` into (\S+)`)
)

// sections maps the struct types to their keys in the file.
var sections = map[string]string{
	"Config": "", "DNS": "dns.", "API": "api.", "Zones": "zones.", "Journal": "journal.", "Log": "log.", "Client": "client.",
	"Steering": "steering.", "Location": "steering.locations[].",
}

// yamlMessage rewrites yaml.v3's errors in the file's own terms.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	var out []string
	for _, e := range te.Errors {
		if m := unknownField.FindStringSubmatch(e); m != nil {
			out = append(out, fmt.Sprintf("line %s: unknown key %q", m[1], sections[m[3]]+m[2]))
			continue
		}
		if m := cannot.FindStringSubmatch(e); m != nil {
			want := m[4]
			switch {
			case want == "time.Duration":
				want = "a duration such as 10s or 1m30s"
			case strings.HasPrefix(want, "int"):
				want = "a whole number"
			case want == "bool":
				want = "true or false"
			case strings.HasPrefix(want, "[]"):
				want = "a list"
			}
			out = append(out, fmt.Sprintf("line %s: %q is not %s", m[1], m[3], want))
			continue
		}
		out = append(out, e)
	}
	return strings.Join(out, "; ")
}
