package drill

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// WriteHTML writes the report as one self-contained page: the verdicts,
// each step's times, and a timeline of the answers of every nameserver
// for every client and service, with the steps marked on it.
func WriteHTML(w io.Writer, rep *Report) error {
	return reportPage.Execute(w, pageData(rep))
}

type page struct {
	Rep      *Report
	Result   string
	Took     string
	Width    int
	Lanes    []lane
	Marks    []mark
	Legend   []legend
	Axis     []tick
	Height   int
	AxisY    int
	LaneText int
}

type lane struct {
	Y     int
	Label string
	Bars  []bar
}

type bar struct {
	X, Y, W int
	Color   string
	Title   string
}

type mark struct {
	X     int
	Label string
}

type legend struct {
	Color, Label string
}

type tick struct {
	X      int
	Label  string
	Anchor string // text-anchor: the last tick ends at its mark, inside the plot
}

// The timeline's geometry, in SVG units.
const (
	minLabelWidth = 200
	labelCharW    = 7.5 // width of a character of the 12px labels, generously
	plotWidth     = 900
	rightMargin   = 30
	laneHeight    = 26
	topMargin     = 40
)

var palette = []string{"#2b8a3e", "#1971c2", "#e8590c", "#862e9c", "#0b7285", "#5c940d", "#c2255c", "#495057"}

// named says an answer with the endpoints it stands for.
func named(eps Endpoints, c Change) string {
	if c.Rcode != dns.RcodeSuccess || len(c.Answer) == 0 {
		return answerLabel(c)
	}
	parts := make([]string, len(c.Answer))
	for i, a := range c.Answer {
		parts[i] = eps.Name(a)
	}
	return strings.Join(parts, ", ")
}

func pageData(rep *Report) page {
	p := page{Rep: rep, Result: "PASSED", Took: rep.Ended.Sub(rep.Started).Round(time.Millisecond).String()}
	if !rep.Passed {
		p.Result = "FAILED"
	}
	// The lane labels end where the plot begins: room for the longest.
	labels := make([]string, len(rep.Series))
	longest := 0
	for i, se := range rep.Series {
		labels[i] = fmt.Sprintf("%s · %s · %s", se.Nameserver, se.Client, strings.TrimSuffix(se.Service, "."))
		longest = max(longest, utf8.RuneCountInString(labels[i]))
	}
	labelWidth := max(minLabelWidth, int(float64(longest)*labelCharW)+20)
	p.Width, p.LaneText = labelWidth+plotWidth+rightMargin, labelWidth-10
	span := rep.Ended.Sub(rep.Started)
	if span <= 0 {
		span = time.Second
	}
	x := func(t time.Time) int {
		d := t.Sub(rep.Started)
		return labelWidth + int(float64(plotWidth)*float64(d)/float64(span))
	}
	colors := map[string]string{}
	colorOf := func(c Change) string {
		key := answerLabel(c)
		if c.Rcode != dns.RcodeSuccess {
			return "#e03131" // errors and timeouts stand out
		}
		if col, ok := colors[key]; ok {
			return col
		}
		col := palette[len(colors)%len(palette)]
		colors[key] = col
		p.Legend = append(p.Legend, legend{col, named(rep.Endpoints, c)})
		return col
	}
	for i, se := range rep.Series {
		l := lane{Y: topMargin + i*laneHeight, Label: labels[i]}
		for j, c := range se.Changes {
			end := rep.Ended
			if j+1 < len(se.Changes) {
				end = se.Changes[j+1].At
			}
			b := bar{X: x(c.At), Y: l.Y + 4, Color: colorOf(c), Title: fmt.Sprintf("%s from +%v", named(rep.Endpoints, c), c.At.Sub(rep.Started).Round(time.Millisecond))}
			b.W = max(x(end)-b.X, 1)
			l.Bars = append(l.Bars, b)
		}
		p.Lanes = append(p.Lanes, l)
	}
	if slices.IndexFunc(p.Legend, func(l legend) bool { return l.Color == "#e03131" }) < 0 {
		for _, se := range rep.Series {
			if se.Timeouts+se.ServFails > 0 {
				p.Legend = append(p.Legend, legend{"#e03131", "SERVFAIL, timeout or error"})
				break
			}
		}
	}
	for _, st := range rep.Steps {
		p.Marks = append(p.Marks, mark{X: x(st.Start), Label: fmt.Sprintf("%d %s", st.Step+1, st.Kind)})
	}
	p.AxisY = topMargin + len(p.Lanes)*laneHeight + 16
	p.Height = p.AxisY + 14
	for i := 0; i <= 5; i++ {
		d := span * time.Duration(i) / 5
		t := tick{X: labelWidth + plotWidth*i/5, Label: "+" + d.Round(10*time.Millisecond).String(), Anchor: "middle"}
		if i == 5 {
			t.Anchor = "end"
		}
		p.Axis = append(p.Axis, t)
	}
	return p
}

// answerLabel names an answer for the legend.
func answerLabel(c Change) string {
	switch c.Rcode {
	case RcodeTimeout:
		return "timeout"
	case RcodeError:
		return "error"
	case dns.RcodeSuccess:
		if len(c.Answer) == 0 {
			return "no records"
		}
		return strings.Join(c.Answer, ", ")
	}
	return dns.RcodeToString[c.Rcode]
}

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"took":  SeriesResult.TookText,
	"plus1": func(i int) int { return i + 1 },
	"ms":    func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"name":  func(eps Endpoints, a string) string { return eps.Name(a) },
	"since": func(t, t0 time.Time) string { return "+" + t.Sub(t0).Round(time.Millisecond).String() },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Drill {{.Rep.Scenario}}: {{.Result}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #212529; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
.passed { color: #2b8a3e; } .failed { color: #c92a2a; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #dee2e6; padding: 4px 10px; text-align: left; }
th { background: #f1f3f5; }
td.no { color: #c92a2a; font-weight: bold; } td.yes { color: #2b8a3e; } td.unmeasured { color: #868e96; font-style: italic; }
svg text { font: 12px system-ui, sans-serif; fill: #343a40; }
.legend span { display: inline-block; margin-right: 1.5em; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: middle; }
</style>
</head>
<body>
<h1>Drill {{.Rep.Scenario}}: <span class="{{if .Rep.Passed}}passed{{else}}failed{{end}}">{{.Result}}</span></h1>
<p>Started {{.Rep.Started.Format "2006-01-02 15:04:05 MST"}}, took {{.Took}}.{{if .Rep.Aborted}} Aborted: {{.Rep.Aborted}}.{{end}}</p>

<h2>SLOs</h2>
<table>
<tr><th>SLO</th><th>held</th><th>detail</th></tr>
{{range .Rep.Verdicts}}<tr><td>{{.SLO}}</td>{{if .Held}}<td class="yes">yes</td>{{else if eq .Result "not measured"}}<td class="unmeasured">not measured</td>{{else}}<td class="no">no</td>{{end}}<td>{{.Detail}}</td></tr>
{{else}}<tr><td colspan="3">none set</td></tr>
{{end}}</table>

<h2>Steps</h2>
<table>
<tr><th>step</th><th>at</th><th>what</th><th>expected</th><th>met</th></tr>
{{range .Rep.Steps}}<tr><td>{{plus1 .Step}}</td><td>{{since .Start $.Rep.Started}}</td><td>{{.What}}</td><td>{{if .Expect}}{{.Expect}}{{else}}-{{end}}</td><td class="{{if .Met}}yes{{else}}no{{end}}">{{if .Met}}yes{{else}}no{{end}}</td></tr>
{{end}}</table>

<h2>Timeline</h2>
<div class="legend">{{range .Legend}}<span><i style="background:{{.Color}}"></i>{{.Label}}</span>{{end}}</div>
<svg width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="answers over time">
{{range .Marks}}<line x1="{{.X}}" y1="20" x2="{{.X}}" y2="{{$.Height}}" stroke="#868e96" stroke-dasharray="4 3"/><text x="{{.X}}" y="14" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .Lanes}}<text x="{{$.LaneText}}" y="{{.Y}}" dy="17" text-anchor="end">{{.Label}}</text>
{{range .Bars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="18" fill="{{.Color}}"><title>{{.Title}}</title></rect>
{{end}}{{end}}{{range .Axis}}<text x="{{.X}}" y="{{$.AxisY}}" text-anchor="{{.Anchor}}">{{.Label}}</text>
{{end}}</svg>

<h2>Expectations</h2>
<table>
<tr><th>step</th><th>nameserver</th><th>client</th><th>service</th><th>took</th><th>within</th><th>met</th><th>answered instead</th></tr>
{{range $st := .Rep.Steps}}{{range .Series}}<tr><td>{{plus1 $st.Step}} {{$st.Kind}}</td><td>{{.Nameserver}}</td><td>{{.Client}}</td><td>{{.Service}}</td><td>{{took .}}</td><td>{{ms $st.Within}}</td><td class="{{if .Met}}yes{{else}}no{{end}}">{{if .Met}}yes{{else}}no{{end}}</td><td>{{if .Instead}}{{name $.Rep.Endpoints .Instead}}{{else}}-{{end}}</td></tr>
{{end}}{{end}}</table>
</body>
</html>
`))
