//go:build ignore

// Command vulnfilter reads govulncheck's JSON output (-format json) on
// standard input and reports the vulnerabilities the code calls. It exits
// 1 if one is in a required module, which an upgrade in go.mod fixes. One in
// the standard library is fixed by a newer Go toolchain, not by this
// repository: it is listed as a warning, and fails only with -stdlib=fail.
//
//	govulncheck -format json ./... > out.json
//	go run build/vulnfilter/main.go [-stdlib=fail] < out.json
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
}

type message struct {
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

func main() {
	stdlib := flag.String("stdlib", "warn", "what a called vulnerability in the standard library does: warn or fail")
	flag.Parse()
	if *stdlib != "warn" && *stdlib != "fail" {
		fmt.Fprintf(os.Stderr, "vulnfilter: -stdlib=%q: want warn or fail\n", *stdlib)
		os.Exit(2)
	}
	summaries := map[string]string{}
	called := map[string]string{} // OSV id → "module@version package, fixed in ..."
	inStdlib := map[string]bool{}
	dec := json.NewDecoder(os.Stdin)
	n := 0
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "vulnfilter: reading govulncheck's output: %v\n", err)
			os.Exit(2)
		}
		n++
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		// Only a finding whose innermost frame names a function is one
		// the code calls; the others are imported or required only.
		if f := m.Finding; f != nil && len(f.Trace) > 0 && f.Trace[0].Function != "" {
			t := f.Trace[0]
			fixed := f.FixedVersion
			if fixed == "" {
				fixed = "no fixed version"
			} else {
				fixed = "fixed in " + fixed
			}
			called[f.OSV] = fmt.Sprintf("%s@%s %s, %s", t.Module, t.Version, t.Package, fixed)
			inStdlib[f.OSV] = t.Module == "stdlib"
		}
	}
	if n == 0 {
		fmt.Fprintln(os.Stderr, "vulnfilter: no output from govulncheck")
		os.Exit(2)
	}
	ids := make([]string, 0, len(called))
	for id := range called {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	failed := false
	for _, id := range ids {
		kind := "vulnerability"
		if inStdlib[id] {
			kind = "standard library vulnerability (needs a newer Go)"
			if *stdlib == "warn" {
				kind = "warning: " + kind
			}
		}
		fmt.Printf("%s %s: %s (%s)\n", kind, id, summaries[id], called[id])
		if !inStdlib[id] || *stdlib == "fail" {
			failed = true
		}
	}
	if failed {
		fmt.Println("govulncheck: the code calls vulnerable functions")
		os.Exit(1)
	}
	fmt.Printf("govulncheck: no called vulnerability in the required modules (%d in the standard library)\n", len(ids))
}
