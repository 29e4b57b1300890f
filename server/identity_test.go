package server_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/sync/wire"
)

// code is the authenticator app's code for secret at the clock's time.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	must(t, err)
	return c
}

// mfaUser is a signed-in administrator with a second factor set up.
type mfaUser struct {
	*server.Session
	secret  string
	backups []string
}

// signedInMFA adds a user of a role that needs a second factor and takes
// them through the first sign-in: password change, then enrolment.
func signedInMFA(t *testing.T, s *server.Store, c *clock, login string, roles ...string) *mfaUser {
	t.Helper()
	must(t, s.AddUser(sysCtx(), server.User{Login: login, Name: "管理员" + login, Roles: roles}, pw1))
	sess, err := s.Login(context.Background(), login, pw1)
	must(t, err)
	sess, err = s.ChangePassword(context.Background(), sess.Token, pw1, "Battery#Staple8")
	must(t, err)
	if sess.Stage != server.StageEnroll {
		t.Fatalf("an administrator after the password change: stage %s, want enroll", sess.Stage)
	}
	if _, err := s.Full(context.Background(), sess.Token); err == nil || !strings.Contains(err.Error(), "MFA_ENROLL") {
		t.Fatalf("an administrator without a second factor did more than set it up: %v", err)
	}
	secret, url, err := s.BeginTOTP(context.Background(), sess.Token)
	must(t, err)
	if !strings.HasPrefix(url, "otpauth://totp/") || !strings.Contains(url, "secret="+secret) {
		t.Fatalf("otpauth URL %s", url)
	}
	if _, err := s.ConfirmTOTP(context.Background(), sess.Token, "000000"); err == nil {
		t.Fatal("a wrong code confirmed the second factor")
	}
	backups, err := s.ConfirmTOTP(context.Background(), sess.Token, code(t, secret, c.now()))
	must(t, err)
	if len(backups) != 8 {
		t.Fatalf("%d backup codes", len(backups))
	}
	full, err := s.Session(context.Background(), sess.Token)
	must(t, err)
	if full.Stage != server.StageFull {
		t.Fatalf("after enrolment: stage %s", full.Stage)
	}
	full.Token = sess.Token
	return &mfaUser{Session: full, secret: secret, backups: backups}
}

// forEachClockStore is forEachStore with a clock of the test's own,
// starting at start, for each store.
func forEachClockStore(t *testing.T, start time.Time, f func(t *testing.T, s *server.Store, c *clock)) {
	t.Run("sqlite", func(t *testing.T) {
		c := &clock{t: start}
		f(t, clockStore(t, c), c)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgDSN(t)
		if dsn == "" {
			t.Skip("EBILL_TEST_PG not set")
		}
		c := &clock{t: start}
		s, err := server.OpenStore(context.Background(), dsn, "", server.WithStoreClock(c.now))
		must(t, err)
		t.Cleanup(func() { s.Close() })
		f(t, s, c)
	})
}

func clockStore(t *testing.T, c *clock) *server.Store {
	s, err := server.OpenStore(context.Background(), "", t.TempDir(), server.WithStoreClock(c.now))
	must(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSecondFactor (IA-8): an administrator's password alone does
// nothing; a code is accepted once; a backup code once; the database holds
// neither the secret nor the backup codes in clear.
func TestSecondFactor(t *testing.T) {
	forEachClockStore(t, time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC), func(t *testing.T, s *server.Store, c *clock) {
		a := signedInMFA(t, s, c, "sec", server.RoleSecAdmin)
		ctx := context.Background()
		c.t = c.t.Add(time.Minute)
		sess, err := s.Login(ctx, "sec", "Battery#Staple8")
		must(t, err)
		if sess.Stage != server.StageMFA {
			t.Fatalf("an administrator's sign-in: stage %s", sess.Stage)
		}
		if _, err := s.Full(ctx, sess.Token); err == nil || !strings.Contains(err.Error(), "MFA_REQUIRED") {
			t.Fatalf("password only: %v", err)
		}
		if _, err := s.VerifyMFA(ctx, sess.Token, "123456"); err == nil {
			t.Fatal("a wrong code let in")
		}
		good := code(t, a.secret, c.now())
		full, err := s.VerifyMFA(ctx, sess.Token, good)
		must(t, err)
		if full.Stage != server.StageFull {
			t.Fatalf("after the code: %s", full.Stage)
		}
		// The same code again, in another sign-in within its 30 seconds: refused.
		again, err := s.Login(ctx, "sec", "Battery#Staple8")
		must(t, err)
		if _, err := s.VerifyMFA(ctx, again.Token, good); err == nil {
			t.Fatal("a code was accepted twice")
		}
		// A backup code works once.
		if _, err := s.VerifyMFA(ctx, again.Token, a.backups[0]); err != nil {
			t.Fatalf("backup code: %v", err)
		}
		third, err := s.Login(ctx, "sec", "Battery#Staple8")
		must(t, err)
		if _, err := s.VerifyMFA(ctx, third.Token, a.backups[0]); err == nil {
			t.Fatal("a backup code was accepted twice")
		}
		// Nothing in clear in the database.
		var sealed []byte
		must(t, s.DB().QueryRow("SELECT totp_secret FROM users WHERE login = 'sec'").Scan(&sealed))
		if len(sealed) == 0 || bytes.Contains(sealed, []byte(a.secret)) {
			t.Fatalf("the TOTP secret is stored in clear (or not at all): %q", sealed)
		}
		rows, err := s.DB().Query("SELECT hash FROM backup_codes WHERE login = 'sec'")
		must(t, err)
		n := 0
		for rows.Next() {
			var h string
			must(t, rows.Scan(&h))
			n++
			for _, b := range a.backups {
				if strings.Contains(h, b) {
					t.Errorf("backup code %s stored in clear", b)
				}
			}
		}
		rows.Close()
		if n != 8 {
			t.Fatalf("%d backup code rows", n)
		}
		// Five wrong codes lock the account like wrong passwords.
		fourth, err := s.Login(ctx, "sec", "Battery#Staple8")
		must(t, err)
		for i := 0; i < 5; i++ {
			s.VerifyMFA(ctx, fourth.Token, "000000")
		}
		if _, err := s.Login(ctx, "sec", "Battery#Staple8"); err == nil || !strings.Contains(err.Error(), "锁定") {
			t.Fatalf("after 5 wrong codes: %v", err)
		}
	})
}

// TestTOTPVectors: RFC 6238 Appendix B (SHA-1), the last six digits.
func TestTOTPVectors(t *testing.T) {
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1111111111: "050471", 1234567890: "005924", 2000000000: "279037"} {
		if _, ok := server.ValidTOTP(secret, want, time.Unix(unix, 0), 0); !ok {
			t.Errorf("T=%d: %s refused", unix, want)
		}
		if _, ok := server.ValidTOTP(secret, want, time.Unix(unix+120, 0), 0); ok {
			t.Errorf("T=%d: %s accepted two minutes late", unix, want)
		}
	}
}

// TestSessionLimits (SE-1..3): 15 minutes idle or 8 hours in all end a
// session; role change, disable and sign-out end them too.
func TestSessionLimits(t *testing.T) {
	forEachClockStore(t, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), func(t *testing.T, s *server.Store, c *clock) {
		ctx := context.Background()
		sess := signedIn(t, s, "lin", server.RoleCashier)
		c.t = c.t.Add(15 * time.Minute)
		if _, err := s.Full(ctx, sess.Token); err != nil {
			t.Fatalf("after 15 minutes: %v", err)
		}
		c.t = c.t.Add(15*time.Minute + time.Second)
		if _, err := s.Full(ctx, sess.Token); err == nil || !strings.Contains(err.Error(), "未操作") {
			t.Fatalf("after 15 minutes and a second idle: %v", err)
		}
		// Busy all day: the session ends at 8 hours all the same.
		sess, err := s.Login(ctx, "lin", "Battery#Staple8")
		must(t, err)
		start := c.t
		for c.t = start.Add(5 * time.Minute); c.t.Before(start.Add(8 * time.Hour)); c.t = c.t.Add(5 * time.Minute) {
			if _, err := s.Full(ctx, sess.Token); err != nil {
				t.Fatalf("after %s: %v", c.t.Sub(start), err)
			}
		}
		if _, err := s.Full(ctx, sess.Token); err == nil || !strings.Contains(err.Error(), "8 小时") {
			t.Fatalf("at 8 hours: %v", err)
		}
		// Role change and disable end every session; sign-out ends one.
		c2 := &clock{t: c.t}
		_ = c2
		sec := signedInMFA(t, s, c, "sec", server.RoleSecAdmin)
		sys := signedInMFA(t, s, c, "sys", server.RoleSysAdmin)
		one, _ := s.Login(ctx, "lin", "Battery#Staple8")
		two, _ := s.Login(ctx, "lin", "Battery#Staple8")
		must(t, s.SetRoles(asUser(&sec.User), "lin", []string{server.RoleExamNurse}))
		for _, x := range []*server.Session{one, two} {
			if _, err := s.Full(ctx, x.Token); bill.ErrorCode(err) != bill.EUnauthorized {
				t.Errorf("a session survived the role change: %v", err)
			}
		}
		three, _ := s.Login(ctx, "lin", "Battery#Staple8")
		if three.User.Roles[0] != server.RoleExamNurse {
			t.Fatalf("roles after the change: %v", three.User.Roles)
		}
		must(t, s.SetDisabled(asUser(&sys.User), "lin", true))
		if _, err := s.Full(ctx, three.Token); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Errorf("a session survived the disable: %v", err)
		}
		if _, err := s.Login(ctx, "lin", "Battery#Staple8"); err == nil || err.Error() != "登录名或密码不正确。" {
			t.Errorf("a disabled account's sign-in: %v, want the wrong-password answer", err)
		}
		must(t, s.Logout(ctx, sec.Token))
		if _, err := s.Full(ctx, sec.Token); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Errorf("a session survived sign-out: %v", err)
		}
	})
}

// TestAdministratorsSeparated (AC-2): each administrator does only their
// part — the system administrator manages accounts but grants no roles,
// the security administrator grants roles but never to themselves, the
// auditor does neither — and each refusal is audited.
func TestAdministratorsSeparated(t *testing.T) {
	forEachClockStore(t, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), func(t *testing.T, s *server.Store, c *clock) {
		sys := asUser(&signedInMFA(t, s, c, "sys", server.RoleSysAdmin).User)
		sec := asUser(&signedInMFA(t, s, c, "sec", server.RoleSecAdmin).User)
		aud := asUser(&signedInMFA(t, s, c, "aud", server.RoleAuditor).User)
		must(t, s.AddUser(sys, server.User{Login: "zhang", Name: "张收费"}, pw1))
		for name, err := range map[string]error{
			"sysadmin grants a role":      s.AddUser(sys, server.User{Login: "li", Name: "李", Roles: []string{server.RoleCashier}}, pw1),
			"sysadmin sets roles":         s.SetRoles(sys, "zhang", []string{server.RoleCashier}),
			"auditor adds a user":         s.AddUser(aud, server.User{Login: "wu", Name: "吴"}, pw1),
			"secadmin adds a user":        s.AddUser(sec, server.User{Login: "wu", Name: "吴"}, pw1),
			"auditor unlocks":             s.Unlock(aud, "zhang"),
			"sysadmin changes the policy": s.SetPolicy(sys, server.DefaultPolicy),
		} {
			if bill.ErrorCode(err) != bill.EForbidden {
				t.Errorf("%s: %v, want forbidden", name, err)
			}
		}
		if err := s.SetRoles(sec, "sec", []string{server.RoleSecAdmin, server.RoleCashier}); bill.ErrorCode(err) != bill.EForbidden {
			t.Errorf("secadmin changes own roles: %v", err)
		}
		if err := s.SetRoles(sec, "zhang", []string{server.RoleBillAdmin, server.RoleChecker}); err == nil {
			t.Error("bill administrator and checker granted together")
		}
		if err := s.SetRoles(sec, "zhang", []string{server.RoleAuditor, server.RoleCashier}); err == nil {
			t.Error("an administrator role granted with a business role")
		}
		must(t, s.SetRoles(sec, "zhang", []string{server.RoleCashier}))
		if err := s.SetDisabled(sys, "sys", true); bill.ErrorCode(err) != bill.EForbidden {
			t.Errorf("sysadmin disables self: %v", err)
		}
		// A reset password is one-time.
		tmp, err := s.ResetPassword(sys, "zhang")
		must(t, err)
		sess, err := s.Login(context.Background(), "zhang", tmp)
		must(t, err)
		if sess.Stage != server.StagePassword {
			t.Fatalf("after a reset: stage %s", sess.Stage)
		}
		// Without signing in nothing happens.
		if err := s.SetRoles(context.Background(), "zhang", []string{server.RoleFinance}); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Errorf("an anonymous role change: %v", err)
		}
		n := 0
		recs, err := s.AuditTrail(context.Background(), 0, 1000)
		must(t, err)
		for _, r := range recs {
			if r.Action == "denied" {
				n++
			}
		}
		if n != 8 {
			t.Errorf("%d denials audited, want 8", n)
		}
		users, err := s.Users(context.Background())
		must(t, err)
		for _, u := range users {
			if u.Login == "zhang" && (len(u.Roles) != 1 || u.Roles[0] != server.RoleCashier) {
				t.Errorf("zhang's roles %v", u.Roles)
			}
		}
	})
}

// TestPolicy (IA-2): the figures have floors; the password rules follow
// the figures set; the common-password list is long.
func TestPolicy(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		p := server.DefaultPolicy
		for _, tc := range []struct {
			pw, want string
		}{
			{"Abc#123", "至少 8 位"}, {"Wxyz#147", ""}, {"abcdefg1", "至少 3 类"}, {"12345678", "至少 3 类"}, {"aaaaaaaa", "至少 3 类"},
			{"Xlin#2026ab", "登录名"}, {"P@ssw0rd", "弱密码"}, {"Admin@123", "弱密码"}, {"Xiamen@2026", "弱密码"}, {"1qaz@WSX", "弱密码"},
		} {
			err := p.CheckPassword("LIN", tc.pw)
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("%q: %v, want %q", tc.pw, err, tc.want)
			}
		}
		if n := server.CommonPasswords(); n < 1000 {
			t.Errorf("%d common passwords, want at least 1,000", n)
		}
		sec := asUser(&server.User{Login: "sec", Roles: []string{server.RoleSecAdmin}})
		for _, edit := range []func(*server.Policy){
			func(p *server.Policy) { p.MinLength = 7 }, func(p *server.Policy) { p.IdleMinutes = 20 },
			func(p *server.Policy) { p.LockMinutes = 10 }, func(p *server.Policy) { p.MaxFailures = 6 },
			func(p *server.Policy) { p.History = 4 }, func(p *server.Policy) { p.MaxAgeDays = 91 },
			func(p *server.Policy) { p.SessionHours = 9 }, func(p *server.Policy) { p.MFARoles = []string{server.RoleSecAdmin} },
		} {
			q := server.DefaultPolicy
			edit(&q)
			if err := s.SetPolicy(sec, q); bill.ErrorCode(err) != bill.EInvalid {
				t.Errorf("policy %+v accepted: %v", q, err)
			}
		}
		q := server.DefaultPolicy
		q.MinLength = 12
		must(t, s.SetPolicy(sec, q))
		got, err := s.Policy(context.Background())
		must(t, err)
		if got.MinLength != 12 {
			t.Fatalf("policy after set: %+v", got)
		}
		if err := s.AddUser(sysCtx(), server.User{Login: "wang", Name: "王"}, "Abcd#12345"); err == nil || !strings.Contains(err.Error(), "至少 12 位") {
			t.Errorf("a 10-character password under a 12-character policy: %v", err)
		}
	})
}

// TestNoDefaultAccounts (IA-1): a new installation has no account, so no
// default password signs in.
func TestNoDefaultAccounts(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		users, err := s.Users(context.Background())
		must(t, err)
		if len(users) != 0 {
			t.Fatalf("a new store has users: %+v", users)
		}
		for _, lp := range [][2]string{{"admin", "admin"}, {"admin", "123456"}, {"root", "root"}, {"test", "test"}, {"sa", "sa"}, {"admin", "admin123"}} {
			if _, err := s.Login(context.Background(), lp[0], lp[1]); bill.ErrorCode(err) != bill.EUnauthorized {
				t.Errorf("%s/%s: %v", lp[0], lp[1], err)
			}
		}
	})
}

// TestInitAndTokens (AC-5): the first administrators are made once, with
// one-time passwords; an API token acts as its account, with the
// account's permissions, until it is revoked or expires.
func TestInitAndTokens(t *testing.T) {
	forEachClockStore(t, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), func(t *testing.T, s *server.Store, c *clock) {
		ctx := context.Background()
		admins, err := s.Init(ctx, "sys", "sec", "aud")
		must(t, err)
		if len(admins) != 3 || admins[1].Role != server.RoleSecAdmin || len(admins[1].Password) != 16 {
			t.Fatalf("init: %+v", admins)
		}
		if _, err := s.Init(ctx, "sys2", "sec2", "aud2"); bill.ErrorCode(err) != bill.EConflict {
			t.Fatalf("a second init: %v", err)
		}
		sess, err := s.Login(ctx, "sec", admins[1].Password)
		must(t, err)
		if sess.Stage != server.StagePassword {
			t.Fatalf("the first administrator's first sign-in: %s", sess.Stage)
		}
		// A service account for the nightly backup, with a token.
		sys := asUser(&server.User{Login: "sys", Roles: []string{server.RoleSysAdmin}})
		sec := asUser(&server.User{Login: "sec", Roles: []string{server.RoleSecAdmin}})
		must(t, s.AddUser(sys, server.User{Login: "svc-backup", Name: "备份任务"}, pw1))
		must(t, s.SetRoles(sec, "svc-backup", []string{server.RoleSysAdmin}))
		if _, _, err := s.IssueAPIToken(sys, "svc-backup", "每日备份", 24*time.Hour); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("sysadmin issues a token: %v", err)
		}
		token, tk, err := s.IssueAPIToken(sec, "svc-backup", "每日备份", 24*time.Hour)
		must(t, err)
		u, got, err := s.TokenUser(ctx, token)
		must(t, err)
		if u.Login != "svc-backup" || !u.Can(server.PermBackup) || u.Can(server.PermRoleGrant) || got.ID != tk.ID {
			t.Fatalf("token user %+v %+v", u, got)
		}
		var stored string
		must(t, s.DB().QueryRow("SELECT token_hash FROM api_tokens WHERE id = '"+tk.ID+"'").Scan(&stored))
		if strings.Contains(token, stored) || stored == token {
			t.Fatal("the token is stored in clear")
		}
		c.t = c.t.Add(25 * time.Hour)
		if _, _, err := s.TokenUser(ctx, token); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Fatalf("an expired token: %v", err)
		}
		token, tk, err = s.IssueAPIToken(sec, "svc-backup", "每日备份", 24*time.Hour)
		must(t, err)
		must(t, s.RevokeAPIToken(sec, tk.ID))
		if _, _, err := s.TokenUser(ctx, token); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Fatalf("a revoked token: %v", err)
		}
		token, _, err = s.IssueAPIToken(sec, "svc-backup", "每日备份", 24*time.Hour)
		must(t, err)
		must(t, s.SetDisabled(sys, "svc-backup", true))
		if _, _, err := s.TokenUser(ctx, token); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Fatalf("the token of a disabled account: %v", err)
		}
		list, err := s.APITokens(sec)
		must(t, err)
		if len(list) != 3 || !list[1].Revoked || list[0].CreatedBy != "sec" {
			t.Fatalf("tokens %+v", list)
		}
	})
}

// TestAuditorQueries (AU-7): only the auditor reads the trail, a page at
// a time, by person and action; each query, export and verification is
// itself recorded.
func TestAuditorQueries(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		for i := 0; i < 7; i++ {
			s.Login(context.Background(), "ghost", "Wrong#Pass9")
		}
		aud := asUser(&server.User{Login: "aud", Roles: []string{server.RoleAuditor}})
		sec := asUser(&server.User{Login: "sec", Roles: []string{server.RoleSecAdmin}})
		if _, _, err := s.QueryAudit(sec, server.AuditQuery{}); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("the security administrator reading the audit: %v", err)
		}
		page, next, err := s.QueryAudit(aud, server.AuditQuery{Action: "login.fail", Actor: "", Limit: 3})
		must(t, err)
		if len(page) != 3 || next == 0 || page[0].Seq < page[2].Seq {
			t.Fatalf("first page: %d records, next %d", len(page), next)
		}
		var seen []int64
		for _, r := range page {
			seen = append(seen, r.Seq)
		}
		for next != 0 {
			page, next, err = s.QueryAudit(aud, server.AuditQuery{Action: "login.fail", Before: next, Limit: 3})
			must(t, err)
			for _, r := range page {
				if r.Action != "login.fail" {
					t.Fatalf("a %s record in a login.fail query", r.Action)
				}
				seen = append(seen, r.Seq)
			}
		}
		if len(seen) != 7 {
			t.Fatalf("%d login failures over the pages, want 7: %v", len(seen), seen)
		}
		recs, err := s.ExportAudit(aud, server.AuditQuery{Action: "login.fail"})
		must(t, err)
		if len(recs) != 7 {
			t.Fatalf("export: %d", len(recs))
		}
		if _, err := s.CheckAudit(aud); err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		all, _, err := s.QueryAudit(aud, server.AuditQuery{Action: "audit.", Limit: 100})
		must(t, err)
		for _, r := range all {
			got[r.Action]++
		}
		if got["audit.query"] != 1 || got["audit.export"] != 1 || got["audit.verify"] != 1 {
			t.Fatalf("the auditor's own records: %v", got)
		}
	})
}

// TestHugeLogin (IP-1, IP-2): a login of a megabyte is refused like a
// wrong password, and nothing of it is stored.
func TestHugeLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		huge := strings.Repeat("A", 1<<20)
		if _, err := s.Login(context.Background(), huge, "x"); err == nil || err.Error() != "登录名或密码不正确。" {
			t.Fatalf("a huge login: %v", err)
		}
		recs, err := s.AuditTrail(context.Background(), 0, 100)
		must(t, err)
		for _, r := range recs {
			if len(r.Target) > 200 || len(r.Detail) > 4096 {
				t.Fatalf("the audit kept %d bytes of it", len(r.Target)+len(r.Detail))
			}
		}
	})
}

// TestBackupCodesRenewed (IA-8): a person replaces their backup codes with
// a current code from the app, never with the session alone; the old codes
// stop working; a second factor already set up is not replaced by its user.
func TestBackupCodesRenewed(t *testing.T) {
	forEachClockStore(t, time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC), func(t *testing.T, s *server.Store, c *clock) {
		a := signedInMFA(t, s, c, "sec", server.RoleSecAdmin)
		ctx := context.Background()
		if n, err := s.BackupCodesLeft(ctx, a.Token); err != nil || n != 8 {
			t.Fatalf("backup codes left: %d %v", n, err)
		}
		if _, err := s.RegenerateBackupCodes(ctx, a.Token, "000000"); err == nil {
			t.Fatal("backup codes renewed without a right code")
		}
		if _, _, err := s.BeginTOTP(ctx, a.Token); err == nil {
			t.Fatal("a second factor set up again over the bound one")
		}
		c.t = c.t.Add(30 * time.Second)
		fresh, err := s.RegenerateBackupCodes(ctx, a.Token, code(t, a.secret, c.now()))
		must(t, err)
		if len(fresh) != 8 || fresh[0] == a.backups[0] {
			t.Fatalf("new backup codes: %v", fresh)
		}
		sess, err := s.Login(ctx, "sec", "Battery#Staple8")
		must(t, err)
		if _, err := s.VerifyMFA(ctx, sess.Token, a.backups[1]); err == nil {
			t.Fatal("an old backup code still works")
		}
		if _, err := s.VerifyMFA(ctx, sess.Token, fresh[1]); err != nil {
			t.Fatalf("a new backup code: %v", err)
		}
		if n, _ := s.BackupCodesLeft(ctx, sess.Token); n != 7 {
			t.Fatalf("after using one: %d left", n)
		}
	})
}

// TestSignInTiming (IA-7, IP-7): a wrong password and an unknown login
// cost the same work — their median times differ by less than 20 %.
func TestSignInTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("times 80 sign-ins")
	}
	s, err := server.OpenStore(context.Background(), "", t.TempDir())
	must(t, err)
	defer s.Close()
	for i := 0; i < 10; i++ {
		must(t, s.AddUser(sysCtx(), server.User{Login: fmt.Sprintf("u%02d", i), Name: "用户", Roles: []string{server.RoleCashier}}, pw1))
	}
	median := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	var known, unknown []time.Duration
	for round := 0; round < 4; round++ { // four failures each: none of them locks
		for i := 0; i < 10; i++ {
			start := time.Now()
			s.Login(context.Background(), fmt.Sprintf("u%02d", i), "Wrong#Pass9")
			known = append(known, time.Since(start))
			start = time.Now()
			s.Login(context.Background(), fmt.Sprintf("ghost-%d-%d", round, i), "Wrong#Pass9")
			unknown = append(unknown, time.Since(start))
		}
	}
	k, u := median(known), median(unknown)
	diff := float64(k-u) / float64(max(k, u))
	if diff < 0 {
		diff = -diff
	}
	t.Logf("median sign-in: wrong password %s, unknown login %s (%.0f %% apart)", k, u, diff*100)
	if diff >= 0.20 {
		t.Fatalf("a wrong password takes %s, an unknown login %s: the difference tells which logins exist", k, u)
	}
}

// TestPasswordExpiry (IA-4): 91 days after it was set a password signs in
// only to be changed; every other call answers PASSWORD_EXPIRED.
func TestPasswordExpiry(t *testing.T) {
	forEachClockStore(t, time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC), func(t *testing.T, s *server.Store, c *clock) {
		signedIn(t, s, "lin", server.RoleCashier)
		c.t = c.t.Add(89 * 24 * time.Hour)
		sess, err := s.Login(context.Background(), "lin", "Battery#Staple8")
		must(t, err)
		if sess.Stage != server.StageFull {
			t.Fatalf("after 89 days: %s", sess.Stage)
		}
		c.t = c.t.Add(2 * 24 * time.Hour)
		sess, err = s.Login(context.Background(), "lin", "Battery#Staple8")
		must(t, err)
		if _, err := s.Full(context.Background(), sess.Token); sess.Stage != server.StagePassword || err == nil ||
			!strings.Contains(err.Error(), "PASSWORD_EXPIRED") {
			t.Fatalf("after 91 days: stage %s, %v", sess.Stage, err)
		}
		next, err := s.ChangePassword(context.Background(), sess.Token, "Battery#Staple8", "Battery#Staple9")
		must(t, err)
		if next.Stage != server.StageFull {
			t.Fatalf("after the change: %s", next.Stage)
		}
	})
}

// TestStationsLearnSecondFactor (IA-8 at the desk): a station's master data
// says which users need a second factor (so the desk refuses them) as the
// policy says, and a change of the policy reaches every station.
func TestStationsLearnSecondFactor(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := sysCtx()
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		must(t, s.AddUser(ctx, server.User{Login: "lin", Name: "林", Roles: []string{server.RoleCashier}}, pw1))
		must(t, s.AddUser(ctx, server.User{Login: "chen", Name: "陈", Roles: []string{server.RoleBillAdmin}}, pw1))
		must(t, s.AddUser(ctx, server.User{Login: "zhao", Name: "赵", Roles: []string{server.RoleFinance}}, pw1))
		md, err := s.MasterDataSince(ctx, "P01", 0)
		must(t, err)
		second := func(md []wire.User) map[string]bool {
			out := map[string]bool{}
			for _, u := range md {
				if !u.Removed { // only the desk's accounts reach a station
					out[u.Login] = u.SecondFactor
				}
			}
			return out
		}
		if got := second(md.Users); len(got) != 1 || got["lin"] {
			t.Fatalf("second factor by user: %v", got)
		}
		p := server.DefaultPolicy
		p.MFARoles = append(append([]string(nil), p.MFARoles...), server.RoleCashier)
		must(t, s.SetPolicy(asUser(&server.User{Login: "sec", Roles: []string{server.RoleSecAdmin}}), p))
		next, err := s.MasterDataSince(ctx, "P01", md.Version)
		must(t, err)
		if got := second(next.Users); len(got) != 1 || !got["lin"] {
			t.Fatalf("after the policy names 收费员: %v", got)
		}
	})
}
