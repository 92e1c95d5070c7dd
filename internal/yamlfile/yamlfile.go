// Package yamlfile decodes the YAML files operators write (the server's
// config, drill scenarios) strictly: one document, no unknown keys, and
// errors that name the key and line in the file's own terms rather than
// the Go types'.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrEmpty means the file holds no YAML document.
var ErrEmpty = errors.New("the file is empty")

// Decode decodes data into v. sections maps the names of the Go struct
// types in v to their keys' prefixes in the file ("DNS" → "dns."), so
// that an unknown key is reported as "dns.listne" rather than by type.
func Decode(data []byte, v any, sections map[string]string) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrEmpty
		}
		return errors.New(message(err, sections))
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("only one YAML document is allowed")
	}
	return nil
}

var (
	unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type \w+\.(\w+)`)
	cannot       = regexp.MustCompile(`line (\d+): cannot unmarshal !!(\w+) ` + "`" + `([^` + "`" + `]*)` + "`" + ` into (\S+)`)
)

// message rewrites yaml.v3's errors in the file's own terms.
func message(err error, sections map[string]string) string {
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
			case strings.HasPrefix(want, "int"), strings.HasPrefix(want, "uint"):
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
