package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/internal/drill"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// errDrillFailed means a drill ran but an expectation or SLO did not hold.
var errDrillFailed = errors.New("the drill failed")

func (a *app) drillCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Run failover drills: inject outages, measure every nameserver, judge the SLOs",
	}
	var (
		lease  time.Duration
		force  bool
		html   string
		dry    bool
		noSave bool
	)
	run := &cobra.Command{
		Use:   "run SCENARIO.yaml",
		Short: "Run a drill and report whether its SLOs held (exit 0 only if they all did)",
		Long: `Run a drill from its scenario file: watch each nameserver for each client
and service, inject each step's fault as an override that ends by itself
(--lease, renewed while the drill runs), wait for each expectation, and judge
the SLOs. Every fault is cleared at the end, also on Ctrl-C; a drill that
dies leaves overrides that end within the lease.

Each step of the scenario is one of:
  - fail: {region: eu-west}   a fault (or service, pool or endpoint with
                              its service, provider, jurisdiction); with
                              expect:, it counts toward the failover SLO
  - restore: {region: eu-west}  its repair; counts toward the recovery SLO
  - fail: {run: "cmd"}        a real fault or repair made by a hook; counts
  - restore: {run: "cmd"}     as fail: or restore: does
  - run: "cmd"                just a hook, with an optional expect: like any
                              step; counts toward neither the failover nor
                              the recovery SLO
  - wait: 30s
A hook runs with sh -c where the drill runs, for one minute at most; a
failing hook stops the drill.

A drill refuses to start when an endpoint of a service under test is
already out of the answers, unless --force. --dry-run changes nothing: it
asks the server what each service would answer with the faults in place.

The summary lists each step (what it faulted, what it expected), how long
each nameserver took to meet each expectation for each client ("at start":
it already did, nothing to measure; "never": it did not) and what it
answered instead when it did not, how often each answer changed, and each
SLO: held, NO, or "not measured" when no step measured it (no step of its
kind with an expectation, or nothing had to change).

Exit status 0 when every expectation and SLO held, 7 when one did not (an
SLO not measured does not fail the drill).`,
		Example: `  stratus drill run eu-failover.yaml
  stratus drill run eu-failover.yaml -o json > report.json
  stratus drill run eu-failover.yaml --html report.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return usagef("%v", err)
			}
			s, err := drill.ParseScenario(args[0], b)
			if err != nil {
				return usagef("%v", err)
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			if dry {
				return dryRun(cmd.Context(), apiDrillPlane{c}, s, p)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			rep, err := drill.Run(ctx, apiDrillPlane{c}, s, drill.RunOptions{Lease: lease, Force: force, Progress: func(m string) {
				fmt.Fprintf(a.stderr, "%s  %s\n", time.Now().Format("15:04:05.000"), termSafe(m))
			}})
			if rep == nil {
				return err
			}
			if html != "" {
				if herr := writeHTMLReport(html, rep); herr != nil {
					return herr
				}
			}
			if !noSave {
				// Kept on the server, for drill list and drill show.
				body, jerr := json.Marshal(rep)
				if jerr != nil {
					return jerr
				}
				kept, serr := c.SaveDrillRun(context.WithoutCancel(ctx), apiv1.DrillRun{Drill: s.Name, Started: rep.Started, Ended: rep.Ended, Passed: rep.Passed, Aborted: rep.Aborted, Report: body})
				if serr != nil {
					return fmt.Errorf("keeping the run: %w", serr)
				}
				fmt.Fprintf(a.stderr, "kept as %s\n", kept.ID)
			}
			if perr := p.print(rep, func(w io.Writer) { drillSummary(w, rep) }); perr != nil {
				return perr
			}
			switch {
			case err != nil:
				return err
			case !rep.Passed:
				return errDrillFailed
			}
			return nil
		},
	}
	run.Flags().DurationVar(&lease, "lease", 30*time.Second, "how long each injected fault lasts unless the drill renews it")
	run.Flags().BoolVar(&force, "force", false, "run even when a service under test is already degraded")
	run.Flags().StringVar(&html, "html", "", "also write the report as a self-contained HTML page with a timeline to this file")
	run.Flags().BoolVar(&noSave, "no-save", false, "do not keep the run's report on the server")
	run.Flags().BoolVar(&dry, "dry-run", false, "change nothing: say what each fault would make each service answer, and whether the expectations would hold")
	var drillName string
	list := &cobra.Command{
		Use:     "list [--drill NAME]",
		Aliases: []string{"ls"},
		Short:   "List the drill runs kept, newest first",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			runs, err := c.DrillRuns(cmd.Context(), drillName, 100)
			if err != nil {
				return err
			}
			return p.print(apiv1.DrillRunList{Runs: runs}, func(w io.Writer) {
				row(w, "RUN", "STARTED", "TOOK", "RESULT", "BY")
				for _, r := range runs {
					result := "passed"
					if !r.Passed {
						result = "FAILED"
					}
					if r.Aborted != "" {
						result += " (aborted: " + r.Aborted + ")"
					}
					row(w, r.ID, r.Started.Format(time.RFC3339), duration(r.Ended.Sub(r.Started)), result, r.Actor)
				}
			})
		},
	}
	list.Flags().StringVar(&drillName, "drill", "", "only this drill's runs")
	var showHTML string
	show := &cobra.Command{
		Use:   "show RUN [--html FILE]",
		Short: "Show a drill run kept (RUN as drill list prints it: DRILL/RUN)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			drillName, runID, ok := strings.Cut(args[0], "/")
			if !ok {
				return usagef("RUN is DRILL/RUN, as drill list prints it")
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			kept, err := c.DrillRun(cmd.Context(), drillName, runID)
			if err != nil {
				return err
			}
			var rep drill.Report
			if err := json.Unmarshal(kept.Report, &rep); err != nil {
				return fmt.Errorf("run %s: the report kept is not readable: %w", args[0], err)
			}
			if showHTML != "" {
				if err := writeHTMLReport(showHTML, &rep); err != nil {
					return err
				}
			}
			return p.print(&rep, func(w io.Writer) { drillSummary(w, &rep) })
		},
	}
	show.Flags().StringVar(&showHTML, "html", "", "also write the run's HTML page to this file")
	start := &cobra.Command{
		Use:   "start NAME",
		Short: "Start one of the server's configured drills (drills: in its config file) now",
		Long: `Start one of the drills the server runs (drills: in its config file) now,
in the background on the server. Its run is kept when it ends: see drill list.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			if err := c.StartDrill(cmd.Context(), args[0]); err != nil {
				return err
			}
			return p.print(map[string]any{"drill": args[0], "started": true}, func(w io.Writer) {
				fmt.Fprintf(w, "drill %s started on the server; stratus drill list --drill %s shows its run when it ends\n", args[0], args[0])
			})
		},
	}
	cmd.AddCommand(run, list, show, start)
	return cmd
}

// drillSummary writes the outcome for a terminal.
func drillSummary(w io.Writer, rep *drill.Report) {
	verdict := "PASSED"
	if !rep.Passed {
		verdict = "FAILED"
	}
	row(w, "drill", rep.Scenario)
	row(w, "result", verdict)
	if rep.Aborted != "" {
		row(w, "aborted", rep.Aborted)
	}
	row(w, "took", duration(rep.Ended.Sub(rep.Started)))
	fmt.Fprintln(w)
	row(w, "STEP", "AT", "WHAT", "EXPECTED")
	for _, st := range rep.Steps {
		expect := st.Expect
		if expect == "" {
			expect = "-"
		}
		row(w, st.Step+1, "+"+duration(st.Start.Sub(rep.Started)), st.What, expect)
	}
	fmt.Fprintln(w)
	row(w, "STEP", "NAMESERVER", "CLIENT", "SERVICE", "TOOK", "WITHIN", "MET", "ANSWERED INSTEAD")
	for _, st := range rep.Steps {
		for _, s := range st.Series {
			instead := "-"
			if s.Instead != "" {
				instead = rep.Endpoints.Name(s.Instead)
			}
			row(w, st.Step+1, s.Nameserver, s.Client, s.Service, s.TookText(), duration(st.Within), yesNo(s.Met), instead)
		}
	}
	fmt.Fprintln(w)
	row(w, "NAMESERVER", "CLIENT", "SERVICE", "QUERIES", "ANSWER CHANGES", "SERVFAIL", "TIMEOUTS/ERRORS")
	for _, se := range rep.Series {
		row(w, se.Nameserver, se.Client, se.Service, se.Queries, max(len(se.Changes)-1, 0), se.ServFails, se.Timeouts)
	}
	fmt.Fprintln(w)
	row(w, "SLO", "HELD", "DETAIL")
	for _, v := range rep.Verdicts {
		held := yesNo(v.Held)
		if v.Result == drill.NotMeasured {
			held = "not measured"
		}
		row(w, v.SLO, held, v.Detail)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// writeHTMLReport writes the report's HTML page to path.
func writeHTMLReport(path string, rep *drill.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := drill.WriteHTML(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// dryRun prints what the drill's faults would lead to, changing nothing.
func dryRun(ctx context.Context, pl apiDrillPlane, s *drill.Scenario, p *printer) error {
	preds, err := drill.DryRun(ctx, pl, pl, s)
	if err != nil {
		return err
	}
	met := true
	for _, pr := range preds {
		met = met && pr.Met
	}
	err = p.print(preds, func(w io.Writer) {
		row(w, "STEP", "KIND", "CLIENT", "SERVICE", "WOULD ANSWER", "EXPECTATION")
		for _, pr := range preds {
			answer := strings.Join(pr.Answer, ",")
			if answer == "" {
				answer = "-"
			}
			row(w, pr.Step+1, pr.Kind, pr.Client, pr.Service, answer, map[bool]string{true: "would hold", false: "WOULD FAIL"}[pr.Met])
		}
	})
	if err == nil && !met {
		err = errDrillFailed
	}
	return err
}
