package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stratusdns/stratus/internal/api"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// hostile are values a function (or data stored before the API cleaned
// what it takes) could hold, and what a table shows of each.
var hostile = []struct{ name, in, want string }{
	{"plain", "backend timeout", "backend timeout"},
	{"unicode letters stay", "délai dépassé, 超时", "délai dépassé, 超时"},
	{"ANSI colour", "\x1b[31mdown\x1b[0m", `\x1b[31mdown\x1b[0m`},
	{"clear screen and home", "\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
	{"window title (OSC)", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
	{"C1 CSI", "\u009b31m", `\u009b31m`},
	{"carriage return overwrite", "ok\rDOWN", `ok\x0dDOWN`},
	{"backspace", "up\b\bdn", `up\x08\x08dn`},
	{"fake row", "x\n99  2026-01-01  api  fn-1  down -> up", `x\x0a99  2026-01-01  api  fn-1  down -> up`},
	{"fake column", "a\tb", `a\x09b`},
	{"bidi override", "fn-\u202egnp.exe", `fn-\u202egnp.exe`},
	{"bidi embedding and pop", "\u202aa\u202c", `\u202aa\u202c`},
	{"bidi isolates", "\u2066x\u2067y\u2068z\u2069", `\u2066x\u2067y\u2068z\u2069`},
	{"zero width", "fn\u200b-1\u200c\u200d\ufeff", `fn\u200b-1\u200c\u200d\ufeff`},
	{"marks", "\u200e\u200f\u061c", `\u200e\u200f\u061c`},
	{"tag characters", "a\U000e0041", `a\U000e0041`},
	{"line separator", "a\u2028b", `a\u2028b`},
	{"DEL and NUL", "a\x7fb\x00", `a\x7fb\x00`},
	{"not UTF-8", "a\xffb\xc3", `a\xffb\xc3`},
}

// TestTermSafe checks each hostile value alone.
func TestTermSafe(t *testing.T) {
	for _, tc := range hostile {
		if got := termSafe(tc.in); got != tc.want {
			t.Errorf("%s: termSafe(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// TestTableEscapes checks the table printer: a row of hostile values is one
// line with only the table's own layout, every value escaped, also when
// written past row(); the JSON output keeps every value exact.
func TestTableEscapes(t *testing.T) {
	var ins []string
	for _, tc := range hostile {
		if utf8.ValidString(tc.in) { // JSON has no way to carry the others exactly
			ins = append(ins, tc.in)
		}
	}
	for _, tc := range hostile {
		var b bytes.Buffer
		err := (&printer{w: &b}).print(nil, func(w io.Writer) {
			row(w, "ID", "REASON")
			row(w, "fn-1", tc.in)
		})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != 2 || !strings.HasSuffix(lines[1], tc.want) || !strings.HasPrefix(lines[1], "fn-1  ") {
			t.Errorf("%s: table %q, want two lines, the second fn-1 then %q", tc.name, b.String(), tc.want)
		}
		if strings.ContainsAny(b.String(), "\x1b\r\x07\u009b\u202e\u2066\u200b") {
			t.Errorf("%s: table holds raw control or invisible characters: %q", tc.name, b.String())
		}
		b.Reset()
		(&printer{w: &b}).print(nil, func(w io.Writer) { io.WriteString(w, "reason: "+tc.in+"\n") })
		if strings.Contains(tc.in, "\t") {
			continue // the tab is the table's: tabwriter aligns it
		}
		if want := "reason: " + strings.NewReplacer(`\x0a`, "\n", `\x09`, "\t").Replace(tc.want) + "\n"; b.String() != want {
			t.Errorf("%s: text written to the table %q, want %q", tc.name, b.String(), want)
		}
	}
	var b bytes.Buffer
	if err := (&printer{w: &b, json: true}).print(ins, nil); err != nil {
		t.Fatal(err)
	}
	var back []string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for i := range ins {
		if back[i] != ins[i] {
			t.Errorf("JSON changed %q to %q", ins[i], back[i])
		}
	}
}

// hostileEvents is a health event log holding what a function wrote in
// reasons, ids and actors before the API cleaned what it takes.
type hostileEvents struct{ api.HealthView }

func (hostileEvents) Events(after uint64, limit int) []health.Event {
	if after > 0 {
		return nil
	}
	return []health.Event{{
		Seq: 1, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Key: "api.example.com.|fn-\x1b[2J\u202e1", Old: health.Up, New: health.Down,
		Reason: "\x1b]0;owned\x07timeout\nfake row", Actor: "push\u200b",
	}}
}

// TestEventsCommandEscapes runs "stratus events" against the API with such
// events: the table escapes them, -o json gives them exactly.
func TestEventsCommandEscapes(t *testing.T) {
	svc, _ := controltest.New(t, control.Options{})
	tok, _, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.PlaneControl(svc), api.Options{Health: hostileEvents{}}))
	t.Cleanup(srv.Close)
	s := &testAPI{t: t, url: srv.URL, token: tok}

	out := s.mustCLI("events")
	if strings.ContainsAny(out, "\x1b\x07\u202e\u200b") || strings.Count(out, "\n") != 2 {
		t.Errorf("events table holds raw control characters or extra rows:\n%q", out)
	}
	for _, want := range []string{`fn-\x1b[2J\u202e1`, `\x1b]0;owned\x07timeout\x0afake row`, `push\u200b`} {
		if !strings.Contains(out, want) {
			t.Errorf("events table lacks %s:\n%s", want, out)
		}
	}
	var list apiv1.EventList
	if err := json.Unmarshal([]byte(s.mustCLI("events", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Events) != 1 || list.Events[0].Reason != "\x1b]0;owned\x07timeout\nfake row" || list.Events[0].Endpoint != "fn-\x1b[2J\u202e1" {
		t.Errorf("events -o json: %+v", list.Events)
	}
}
