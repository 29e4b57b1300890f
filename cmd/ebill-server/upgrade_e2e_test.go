package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ebill/ebill/server"
)

// previousRelease is the last commit of the release before this one's
// schema changes (migrations 25–28 of the server, 7 of the station): the
// programs a hospital runs when it starts upgrading.
const previousRelease = "c3ed5a4"

var oldOnce sync.Once
var oldDir string
var oldErr error

// oldBinaries builds ebill and ebill-server of previousRelease, once.
func oldBinaries(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the previous release")
	}
	if exec.Command("git", "cat-file", "-e", previousRelease+"^{commit}").Run() != nil {
		t.Skipf("the previous release %s is not in this clone's history (a shallow clone?)", previousRelease)
	}
	oldOnce.Do(func() {
		src, err := os.MkdirTemp("", "ebill-prev-src-")
		if err != nil {
			oldErr = err
			return
		}
		defer func() {
			exec.Command("git", "worktree", "remove", "--force", src).Run()
			os.RemoveAll(src)
		}()
		if out, err := exec.Command("git", "worktree", "add", "--detach", src, previousRelease).CombinedOutput(); err != nil {
			oldErr = &cmdError{args: []string{"git worktree add", string(out)}, err: err}
			return
		}
		oldDir, oldErr = os.MkdirTemp("", "ebill-prev-bin-")
		if oldErr != nil {
			return
		}
		for _, p := range []string{"ebill-server", "ebill"} {
			c := exec.Command("go", "build", "-o", filepath.Join(oldDir, p), "./cmd/"+p)
			c.Dir = src
			if out, err := c.CombinedOutput(); err != nil {
				oldErr = &cmdError{args: []string{"build " + p, string(out)}, err: err}
				return
			}
		}
	})
	if oldErr != nil {
		t.Fatal(oldErr)
	}
	return oldDir
}

// mixBins is a folder with the given server and station programs.
func mixBins(t *testing.T, serverDir, stationDir string) string {
	dir := t.TempDir()
	mustDo(t, os.Symlink(filepath.Join(serverDir, "ebill-server"), filepath.Join(dir, "ebill-server")))
	mustDo(t, os.Symlink(filepath.Join(stationDir, "ebill"), filepath.Join(dir, "ebill")))
	return dir
}

// TestUpgradeOrder (issue 20): a hospital on the previous release upgrades
// the server first or the stations first; both work. At every step the
// station issues and syncs; at the end nothing is lost or doubled and both
// sides verify.
func TestUpgradeOrder(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, serverFirst := range []bool{true, false} {
			name := db + "/station first"
			if serverFirst {
				name = db + "/server first"
			}
			t.Run(name, func(t *testing.T) { upgradeOrder(t, db, serverFirst) })
		}
	}
}

func upgradeOrder(t *testing.T, db string, serverFirst bool) {
	old, cur := oldBinaries(t), binaries(t)
	dsn := ""
	if db == "postgres" {
		dsn = newPGDatabase(t)
	}
	s := prepareSiteOn(t, 1000, false, nil, dsn)
	s.kill()
	// The ledger as the previous release left it.
	store, err := server.OpenStore(context.Background(), s.dsn, s.srvData)
	mustDo(t, err)
	mustDo(t, store.MigrateTo(context.Background(), 24))
	store.Close()
	step := func(srv, sta, label string) {
		t.Helper()
		s.kill()
		s.bin = mixBins(t, srv, sta)
		s.start()
		// Through the station program of this step, not this test's code:
		// an older station must meet only what older programs wrote.
		raw, err := os.ReadFile("../../examples/registration.json")
		mustDo(t, err)
		for i := 0; i < 3; i++ {
			file := filepath.Join(t.TempDir(), "settlement.json")
			mustDo(t, os.WriteFile(file, bytes.Replace(raw, []byte(`"GH202611250001"`), []byte(`"`+label+strconv.Itoa(i)+`"`), 1), 0o600))
			if out, err := s.ebillErr("issue", "--kind", "registration", "-f", file); err != nil {
				t.Fatalf("%s: issue: %v\n%s", label, err, out)
			}
		}
		if out, err := s.ebillErr("sync", "once"); err != nil {
			t.Fatalf("%s: sync: %v\n%s", label, err, out)
		}
	}
	s.bin = mixBins(t, old, old)
	s.start()
	s.enroll()
	step(old, old, "OLD")
	if serverFirst {
		step(cur, old, "SRV")
	} else {
		step(old, cur, "STA")
	}
	step(cur, cur, "NEW")
	if n, mx, ok := s.ledger(); n != 9 || mx != 9 || !ok {
		t.Fatalf("the server holds %d bills (last %d, contiguous %v)", n, mx, ok)
	}
	if out := s.ebill("verify"); !strings.Contains(out, `"valid": true`) && !strings.Contains(out, `"valid":true`) {
		t.Fatalf("station verify: %s", out)
	}
	s.kill()
	store, err = server.OpenStore(context.Background(), s.dsn, s.srvData)
	mustDo(t, err)
	defer store.Close()
	rep, err := store.VerifyLedger(server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true}))
	mustDo(t, err)
	if !rep.OK() || rep.Bills != 9 {
		t.Fatalf("server verify: %+v", rep)
	}
}
