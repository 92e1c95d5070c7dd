package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/drill"
)

// runIn runs the CLI in this process with args.
func runIn(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runWith(t, "", args...)
}

// runWith runs the CLI in this process with args and standard input.
func runWith(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

// walk calls fn for every command of the tree, the root included.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// path is the arguments that name c.
func path(c *cobra.Command) []string {
	return strings.Fields(c.CommandPath())[1:]
}

// TestCommandTree walks every command: a command that groups subcommands
// refuses an unknown one (exit 2, with or without --help), and every
// command's --help prints its own usage.
func TestCommandTree(t *testing.T) {
	root := (&app{}).rootCommand()
	parents, leaves := 0, 0
	walk(root, func(c *cobra.Command) {
		p := path(c)
		name := "stratus " + strings.Join(p, " ")
		if c.HasSubCommands() {
			parents++
			for _, extra := range [][]string{{"nosuchcommand"}, {"nosuchcommand", "--help"}} {
				out, errOut, code := runIn(t, append(append([]string{}, p...), extra...)...)
				if code != exitInvalid || !strings.Contains(errOut, `unknown command "nosuchcommand" for "`+c.CommandPath()+`"`) {
					t.Errorf("%s %s: exit %d, want %d with an unknown command error\nstdout: %s\nstderr: %s",
						name, strings.Join(extra, " "), code, exitInvalid, out, errOut)
				}
			}
		} else {
			leaves++
		}
		out, errOut, code := runIn(t, append(append([]string{}, p...), "--help")...)
		want := "Usage:\n  " + c.UseLine()
		if !c.Runnable() {
			want = "Usage:\n  " + c.CommandPath() + " [command]"
		}
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("%s --help: exit %d, want 0 and %q\nstdout: %s\nstderr: %s", name, code, want, out, errOut)
		}
	})
	if parents < 8 || leaves < 40 {
		t.Errorf("walked %d parents and %d leaves; the tree is larger", parents, leaves)
	}
}

// TestUnknownCommandSuggests: a typo gets the nearest command names.
func TestUnknownCommandSuggests(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"service", "aply"}, `unknown command "aply" for "stratus service"; did you mean "apply"?`},
		{[]string{"service", "aply", "--help"}, `unknown command "aply" for "stratus service"; did you mean "apply"?`},
		{[]string{"zone", "lst"}, `unknown command "lst" for "stratus zone"; did you mean "list"?`},
		{[]string{"recrd", "add"}, `unknown command "recrd" for "stratus"; did you mean "record"?`},
		{[]string{"zone", "xyzzy"}, `unknown command "xyzzy" for "stratus zone" (see 'stratus zone --help')`},
	}
	for _, tc := range tests {
		_, errOut, code := runIn(t, tc.args...)
		if code != exitInvalid || !strings.Contains(errOut, tc.want) {
			t.Errorf("stratus %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}

// TestServiceFileFlags: -f, --filename and the older --file all name the
// service file of create, update and apply.
func TestServiceFileFlags(t *testing.T) {
	for _, verb := range []string{"create", "update", "apply"} {
		for _, flag := range []string{"-f", "--filename", "--file"} {
			_, errOut, code := runIn(t, "service", verb, flag, "/nonexistent/svc.yaml")
			if code != exitInvalid || !strings.Contains(errOut, "/nonexistent/svc.yaml") {
				t.Errorf("service %s %s FILE: exit %d, stderr %q; want the file's error", verb, flag, code, errOut)
			}
		}
		if _, errOut, code := runIn(t, "service", verb); code != exitInvalid || !strings.Contains(errOut, "-f/--filename FILE is required") {
			t.Errorf("service %s without a file: exit %d, stderr %q", verb, code, errOut)
		}
	}
}

// TestTokenCreateHelpListsScopes: every scope a token may hold is in
// "token create --help", with what it allows.
func TestTokenCreateHelpListsScopes(t *testing.T) {
	out, _, code := runIn(t, "token", "create", "--help")
	if code != 0 {
		t.Fatalf("token create --help: exit %d", code)
	}
	for _, s := range auth.KnownScopes {
		if scopeHelp[s] == "" {
			t.Errorf("scope %s has no help text", s)
		}
		if line := "  " + s + " "; !strings.Contains(out, line) || !strings.Contains(out, scopeHelp[s]) {
			t.Errorf("token create --help does not list scope %s:\n%s", s, out)
		}
	}
	for s := range scopeHelp {
		if !auth.ValidScope(s) {
			t.Errorf("help for %q, which is not a scope", s)
		}
	}
}

// TestDrillRunHelpListsSteps: "drill run --help" shows every kind of step,
// each a valid scenario step, and says that a step that is only a run:
// hook counts toward neither the failover nor the recovery SLO.
func TestDrillRunHelpListsSteps(t *testing.T) {
	out, _, code := runIn(t, "drill", "run", "--help")
	if code != 0 {
		t.Fatalf("drill run --help: exit %d", code)
	}
	var steps []string
	kinds := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		item, ok := strings.CutPrefix(line, "  - ")
		if !ok {
			continue
		}
		step, _, _ := strings.Cut(item, "  ")
		steps = append(steps, "  - "+step)
		kind, _, _ := strings.Cut(step, ":")
		if strings.Contains(step, "{run:") {
			kind += " run"
		}
		kinds[kind] = true
	}
	for _, k := range []string{"fail", "restore", "fail run", "restore run", "run", "wait"} {
		if !kinds[k] {
			t.Errorf("drill run --help shows no %q step:\n%s", k, out)
		}
	}
	scenario := "name: x\nservices: [a.example.com]\nnameservers: [{name: s, address: \"127.0.0.1:53\"}]\nsteps:\n" + strings.Join(steps, "\n") + "\n"
	if _, err := drill.ParseScenario("help", []byte(scenario)); err != nil {
		t.Errorf("the steps in drill run --help do not parse: %v\n%s", err, scenario)
	}
	if !strings.Contains(strings.Join(strings.Fields(out), " "), `run: "cmd" just a hook, with an optional expect: like any step; counts toward neither the failover nor the recovery SLO`) {
		t.Errorf("drill run --help does not say what a run: step counts toward:\n%s", out)
	}
}
