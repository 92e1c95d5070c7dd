package api

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestJournalPages: the journal newest first (order=newest), paged back
// with before, oldest first with from; more says a page is not the last;
// contradictory or bad parameters are refused naming the parameter.
func TestJournalPages(t *testing.T) {
	e := newAPI(t)
	e.do(t, "POST", "/v1/zones", e.admin, createExample) // entry 1
	for i := range 4 {                                   // entries 2..5
		r := e.do(t, "PATCH", "/v1/zones/example.com/rrsets", e.admin, fmt.Sprintf(`{"changes":[{"op":"add","name":"h%d","type":"A","records":["192.0.2.1"]}]}`, i))
		if r.status != 200 {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
	}
	tests := []struct {
		query string
		seqs  string
		more  bool
	}{
		{"order=newest&limit=2", "5,4", true},
		{"before=4&limit=2", "3,2", true},
		{"order=newest&before=3&limit=2", "2,1", false},
		{"limit=2", "1,2", true},
		{"from=4", "4,5", false},
		{"order=oldest&from=5&limit=1", "5", false},
	}
	for _, tc := range tests {
		r := e.do(t, "GET", "/v1/zones/example.com/journal?"+tc.query, e.admin, "")
		var j apiv1.Journal
		r.decode(t, &j)
		var seqs []string
		for _, en := range j.Entries {
			seqs = append(seqs, fmt.Sprint(en.Seq))
		}
		if r.status != 200 || strings.Join(seqs, ",") != tc.seqs || j.More != tc.more {
			t.Errorf("%s: %d seqs %v more %v, want %s more %v", tc.query, r.status, seqs, j.More, tc.seqs, tc.more)
		}
	}
	for _, tc := range []struct{ query, field string }{
		{"order=newest&from=2", "from"},
		{"order=oldest&before=2", "before"},
		{"order=sideways", "order"},
		{"before=0", "before"},
		{"before=x", "before"},
	} {
		r := e.do(t, "GET", "/v1/zones/example.com/journal?"+tc.query, e.admin, "")
		if r.status != 400 || r.apiError(t).Field != tc.field {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.query, r.status, r.body, tc.field)
		}
	}
}

// TestJournalSteered: an entry that changed only the steered answers kept
// for secondaries says so (steered: true); other entries leave it out.
func TestJournalSteered(t *testing.T) {
	e := newAPI(t)
	e.do(t, "POST", "/v1/zones", e.admin, createExample)
	www := &model.RRset{Name: model.MustName("www.example.com."), Type: model.TypeA, TTL: 30, Rdata: [][]byte{{192, 0, 2, 7}}}
	if _, err := e.svc.SteeredAnswers.SetSteeredAnswers(context.Background(), model.MustName("example.com."), []*model.RRset{www}, "steering"); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, "GET", "/v1/zones/example.com/journal", e.admin, "")
	var raw struct{ Entries []map[string]any }
	r.decode(t, &raw)
	if r.status != 200 || len(raw.Entries) != 2 {
		t.Fatalf("journal: %d %s", r.status, r.body)
	}
	if v, ok := raw.Entries[0]["steered"]; ok {
		t.Errorf("the zone's creation has steered %v", v)
	}
	if raw.Entries[1]["steered"] != true || raw.Entries[1]["actor"] != "steering" {
		t.Errorf("the steered answers' entry: %v", raw.Entries[1])
	}
}
