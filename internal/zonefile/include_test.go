package zonefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zonefile"
)

// includeDir writes files into a temporary directory and returns it.
func includeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestInclude(t *testing.T) {
	dir := includeDir(t, map[string]string{
		"hosts.zone":       "ns1 A 192.0.2.53\n$INCLUDE nested/more.zone\nwww A 192.0.2.80\n",
		"nested/more.zone": "mail A 192.0.2.25\n",
		"sub.zone":         "@ A 192.0.2.1\nhost A 192.0.2.2\n",
	})
	src := apex + "$INCLUDE hosts.zone\n$INCLUDE sub.zone sub.example.com.\nlast A 192.0.2.9\n"
	sets, err := zonefile.Parse(strings.NewReader(src), zonefile.ParseOptions{
		Origin: origin, File: "main.zone", AllowInclude: true, IncludeDir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ns1", "mail", "www", "sub", "host.sub", "last"}
	have := make(map[model.Name]bool)
	for _, s := range sets {
		have[s.Name] = true
	}
	for _, w := range want {
		if n := model.MustName(w + ".example.com."); !have[n] {
			t.Errorf("no records at %s", n)
		}
	}
}

func TestIncludeErrors(t *testing.T) {
	dir := includeDir(t, map[string]string{
		"bad.zone":       "ns1 A 192.0.2.53\n\nwww A 192.0.2.300\n",
		"outside.zone":   "ns1 A 192.0.2.53\nwww.example.org. A 192.0.2.1\n",
		"nested.zone":    "ns1 A 192.0.2.53\n$INCLUDE bad.zone\n",
		"ok.zone":        "ns1 A 192.0.2.53\n",
		"../escape.zone": "",
	})
	if err := os.Symlink(filepath.Join(dir, "..", "escape.zone"), filepath.Join(dir, "link.zone")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		src   string
		field string
		msg   string
	}{
		{"syntax error in included file", apex + "$INCLUDE bad.zone\n", "bad.zone:3", `invalid A record data "192.0.2.300": not an IPv4 address`},
		{"out of zone in included file", apex + "$INCLUDE outside.zone\n", "outside.zone:2", "www.example.org. is outside zone"},
		{"nested include", apex + "\n$INCLUDE nested.zone\n", "bad.zone:3", `invalid A record data`},
		{"missing file", apex + "$INCLUDE missing.zone\n", "main.zone:4", `$INCLUDE file "missing.zone" does not exist`},
		{"escape from the directory", apex + "$INCLUDE ../escape.zone\n", "main.zone:4", `$INCLUDE file "../escape.zone" is outside the include directory`},
		{"symbolic link out of the directory", apex + "$INCLUDE link.zone\n", "main.zone:4", `cannot open $INCLUDE file "link.zone"`},
		{"record after the include", apex + "$INCLUDE ok.zone\nwww CH A 192.0.2.1\n", "main.zone:5", "class CH"},
		{"include does not reset the position", apex + "$INCLUDE ok.zone\nwww 300 A 192.0.2.1\n\nwww 600 A 192.0.2.2\n", "main.zone:7", "TTL 600 differs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := zonefile.Parse(strings.NewReader(tt.src), zonefile.ParseOptions{
				Origin: origin, File: "main.zone", AllowInclude: true, IncludeDir: filepath.Join(dir, "."),
			})
			var ve *model.Error
			if !errors.As(err, &ve) {
				t.Fatalf("error %v (%T) is not a *model.Error", err, err)
			}
			if ve.Field != tt.field || !strings.Contains(ve.Message, tt.msg) {
				t.Errorf("error %q\nwant field %q and a message containing %q", err, tt.field, tt.msg)
			}
		})
	}
}
