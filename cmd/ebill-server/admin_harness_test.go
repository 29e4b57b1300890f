package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebill/ebill/cmd/internal/adminboot"
)

// adminHarness runs administration commands as the hospital's people do:
// each with the API token of a service account whose role grants the
// command's permission, after a bootstrap through the CLI (adminboot).
type adminHarness struct {
	t    *testing.T
	bin  string
	data string
	dir  string
	boot *adminboot.Result
}

const harnessPassword = "Harness#Pass2026"

func newAdminHarness(t *testing.T, bin, data string) *adminHarness {
	t.Helper()
	h := &adminHarness{t: t, bin: bin, data: data, dir: t.TempDir()}
	boot, err := adminboot.Bootstrap(func(env []string, args ...string) ([]byte, error) {
		c := exec.Command(bin, append([]string{"--data", data, "--json"}, args...)...)
		c.Env = append(os.Environ(), env...)
		out, err := c.Output()
		if err != nil {
			return nil, &cmdError{args: args, err: err}
		}
		return out, nil
	}, h.dir, harnessPassword, 1)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	h.boot = boot
	return h
}

type cmdError struct {
	args []string
	err  error
}

func (e *cmdError) Error() string {
	return "ebill-server " + strings.Join(e.args, " ") + ": " + e.err.Error() + " " + exitText(e.err)
}

// envFor is the environment a command runs with.
func (h *adminHarness) envFor(args []string) []string {
	for len(args) > 0 && args[0] == "--json" {
		args = args[1:]
	}
	perm, _ := commandPermission(args)
	return []string{"EBILL_TOKEN=" + h.boot.TokenFor(perm), "EBILL_SESSION_FILE=" + filepath.Join(h.dir, "none.session")}
}

// cmd is an administration command ready to run, signed in as it needs.
func (h *adminHarness) cmd(args ...string) *exec.Cmd {
	c := exec.Command(h.bin, append([]string{"--data", h.data}, args...)...)
	c.Env = append(append(os.Environ(), "EBILL_HIS_KEY=his-vendor-secret-key"), h.envFor(args)...)
	return c
}

// run runs an administration command with --json and returns its output.
// A stock intake (制单 and 送审 by the bill administrator's account) is
// then approved by the checker's, as the two people would.
func (h *adminHarness) run(args ...string) []byte {
	h.t.Helper()
	out, err := h.cmd(append([]string{"--json"}, args...)...).Output()
	if err != nil {
		h.t.Fatalf("ebill-server %v: %v\n%s", args, err, exitText(err))
	}
	if len(args) > 1 && args[0] == "stock" && args[1] == "receive" {
		var doc struct{ ID string }
		if err := json.Unmarshal(out, &doc); err != nil || doc.ID == "" {
			h.t.Fatalf("stock receive answered %s", out)
		}
		return h.run("stock", "approve", doc.ID)
	}
	return out
}

// raw runs a command with --json in an environment of its own.
func (h *adminHarness) raw(env []string, args ...string) []byte {
	h.t.Helper()
	c := exec.Command(h.bin, append([]string{"--data", h.data, "--json"}, args...)...)
	c.Env = append(os.Environ(), env...)
	out, err := c.Output()
	if err != nil {
		h.t.Fatalf("ebill-server %v: %v\n%s", args, err, exitText(err))
	}
	return out
}
