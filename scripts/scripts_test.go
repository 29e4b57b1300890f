// Package scripts holds the tests of the shell scripts that install and
// run the product.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDepsWaitsForTheAptLock: deps.sh asks apt to wait for a lock another
// apt holds (make run failed at once with "Could not get lock"). apt-get
// and dpkg are stand-ins that record what they were asked.
func TestDepsWaitsForTheAptLock(t *testing.T) {
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "apt.log")
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("dpkg", "exit 1") // every package is missing
	write("apt-get", `echo "$@" >> `+log)
	write("sudo", `exec "$@"`)
	cmd := exec.Command("bash", "deps.sh", "test")
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deps.sh: %v\n%s", err, out)
	}
	calls, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(calls)), "\n")
	if len(lines) != 2 {
		t.Fatalf("apt-get calls:\n%s", calls)
	}
	for _, l := range lines {
		if !strings.Contains(l, "DPkg::Lock::Timeout=600") {
			t.Errorf("apt-get %s: does not wait for the lock", l)
		}
	}
	if !strings.Contains(string(out), "等待") {
		t.Errorf("deps.sh does not say it may wait:\n%s", out)
	}
}

// TestBuildSaysWhatTakesLong: the first build of the desk takes minutes;
// make says so before it starts.
func TestBuildSaysWhatTakesLong(t *testing.T) {
	out, err := exec.Command("make", "-n", "-C", "..", "build", "GO=true").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "5–8 minutes") {
		t.Errorf("make build does not say the desk's first build takes minutes:\n%s", out)
	}
}
