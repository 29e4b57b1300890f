package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebill/ebill/cmd/internal/cli"
	"github.com/ebill/ebill/server"
)

// TestCommandPermissions (AC-1): every administration command has a
// permission or is on the public list, and the permissions are ones roles
// grant.
func TestCommandPermissions(t *testing.T) {
	granted := map[string]bool{permPublic: true, permSignedIn: true}
	for _, perms := range server.RolePermissions {
		for _, p := range perms {
			granted[p] = true
		}
	}
	for _, c := range commands {
		n := 0
		for key, perm := range commandPerms {
			if key == c.name || strings.HasPrefix(key, c.name+" ") {
				n++
				if !granted[perm] {
					t.Errorf("%s needs %q, which no role grants", key, perm)
				}
			}
		}
		if n == 0 {
			t.Errorf("command %s has no permission and is not public", c.name)
		}
	}
}

// TestAdminCommandsSignIn (AC-5): without signing in no administration
// command runs; a signed-in person without the permission is refused and
// the refusal audited; with it the audit names them; a revoked token is
// refused; init runs once.
func TestAdminCommandsSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin := filepath.Join(t.TempDir(), "ebill-server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := t.TempDir()
	h := newAdminHarness(t, bin, data)
	try := func(env []string, args ...string) (string, int) {
		c := exec.Command(bin, append([]string{"--data", data}, args...)...)
		c.Env = append(os.Environ(), env...)
		out, err := c.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		return string(out), 0
	}
	receive := []string{"stock", "receive", "--kind", "einvoice", "--code", "35060126", "--from", "1", "--to", "1000"}
	nobody := []string{"EBILL_SESSION_FILE=" + filepath.Join(t.TempDir(), "none")}
	if out, code := try(nobody, receive...); code != cli.ExitDenied || !strings.Contains(out, "请先登录") {
		t.Fatalf("without signing in: exit %d %s", code, out)
	}
	if out, code := try(append(nobody, "EBILL_TOKEN=ebt_forged"), receive...); code != cli.ExitDenied || !strings.Contains(out, "令牌无效") {
		t.Fatalf("a forged token: exit %d %s", code, out)
	}
	// The system administrator, signed in with a second factor, may not receive stock.
	if out, code := try(h.boot.Sessions[server.RoleSysAdmin], receive...); code != cli.ExitDenied || !strings.Contains(out, "没有此操作的权限") {
		t.Fatalf("sysadmin receiving stock: exit %d %s", code, out)
	}
	var stock []struct{ Received int64 }
	json.Unmarshal(h.run("stock", "list"), &stock)
	if len(stock) != 0 {
		t.Fatalf("refused commands received stock: %+v", stock)
	}
	h.run(receive...)
	// The audit names the tokens' accounts (the harness has the checker
	// approve the intake), and the refusal.
	var recs []server.AuditRecord
	json.Unmarshal(h.run("audit", "list", "--limit", "1000"), &recs)
	var received, approved, denied bool
	for _, r := range recs {
		if r.Action == "stock.draft" && r.Actor == "token:脚本@svc-bill-admin" {
			received = true
		}
		if r.Action == "stock.approve" && r.Actor == "token:脚本@svc-checker" {
			approved = true
		}
		if r.Action == "denied" && r.Target == server.PermStockReceive && strings.Contains(string(r.Detail), `"sysadmin"`) {
			denied = true
		}
	}
	if !received || !approved || !denied {
		t.Fatalf("audit: stock.draft by the bill administrator's token %v, stock.approve by the checker's %v, the refusal %v", received, approved, denied)
	}
	// A revoked token stops working.
	var list []server.APIToken
	json.Unmarshal(h.raw(h.boot.Sessions[server.RoleSecAdmin], "token", "list"), &list)
	var billID string
	for _, tk := range list {
		if tk.Login == "svc-bill-admin" {
			billID = tk.ID
		}
	}
	h.raw(h.boot.Sessions[server.RoleSecAdmin], "token", "revoke", billID)
	if out, code := try(append(nobody, "EBILL_TOKEN="+h.boot.Tokens[server.RoleBillAdmin]), "stock", "list"); code != cli.ExitDenied {
		t.Fatalf("a revoked token: exit %d %s", code, out)
	}
	if out, code := try(nobody, "init"); code != cli.ExitConflict || !strings.Contains(out, "已有管理员") {
		t.Fatalf("a second init: exit %d %s", code, out)
	}
	// Signing out ends the session.
	h.raw(h.boot.Sessions[server.RoleSysAdmin], "logout")
	if out, code := try(h.boot.Sessions[server.RoleSysAdmin], "user", "list"); code != cli.ExitDenied {
		t.Fatalf("after logout: exit %d %s", code, out)
	}
}
