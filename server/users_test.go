package server_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// sysCtx acts as the system (installation, tests) — what the
// administration commands do until they sign in.
func sysCtx() context.Context {
	return server.WithActor(context.Background(), server.Actor{Who: "cli:test", From: "local", System: true})
}

// asUser acts as a signed-in person.
func asUser(u *server.User) context.Context {
	return server.WithActor(context.Background(), server.Actor{Who: "user:" + u.Login, From: "10.1.2.3", User: u})
}

const pw1 = "Correct#Horse7"

// signedIn adds a user and signs them in past the first-login change,
// returning the full session (for roles that need no second factor).
func signedIn(t *testing.T, s *server.Store, login string, roles ...string) *server.Session {
	t.Helper()
	must(t, s.AddUser(sysCtx(), server.User{Login: login, Name: "测试" + login, Roles: roles}, pw1))
	sess, err := s.Login(context.Background(), login, pw1)
	must(t, err)
	if sess.Stage != server.StagePassword {
		t.Fatalf("a new account's first session is at %q, want the password change", sess.Stage)
	}
	sess, err = s.ChangePassword(context.Background(), sess.Token, pw1, "Battery#Staple8")
	must(t, err)
	return sess
}

func TestUsersAndLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := sysCtx()
		must(t, s.AddUser(ctx, server.User{Login: "lin", Name: "林小燕", Roles: []string{server.RoleCashier}}, pw1))
		for _, tc := range []struct {
			u    server.User
			pw   string
			want string
		}{
			{server.User{Login: "lin", Name: "重复", Roles: []string{server.RoleCashier}}, pw1, "已存在"},
			{server.User{Login: "LIN", Name: "大写重复", Roles: []string{server.RoleCashier}}, pw1, "已存在"},
			{server.User{Login: "a1", Name: "甲", Roles: []string{server.RoleSecAdmin, server.RoleAuditor}}, pw1, "三员分立"},
			{server.User{Login: "a2", Name: "乙", Roles: []string{server.RoleSysAdmin, server.RoleCashier}}, pw1, "三员分立"},
			{server.User{Login: "a5", Name: "己", Roles: []string{server.RoleBillAdmin, server.RoleChecker}}, pw1, "制单与审核分离"},
			{server.User{Login: "a3", Name: "丙", Roles: []string{"boss"}}, pw1, "未知角色"},
			{server.User{Login: "a4", Name: "丁", Roles: []string{server.RoleFinance}}, "Sh0rt!", "至少"},
			{server.User{Login: "a b", Name: "戊", Roles: []string{server.RoleFinance}}, pw1, "登录名"},
		} {
			if err := s.AddUser(ctx, tc.u, tc.pw); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("AddUser(%+v): %v, want %q", tc.u, err, tc.want)
			}
		}
		sess := signedIn(t, s, "zhou", server.RoleCashier)
		u, err := s.SessionUser(context.Background(), sess.Token)
		if err != nil || u.Login != "zhou" || !u.Can(server.PermBillIssue) || u.Can(server.PermUserManage) {
			t.Fatalf("session user %+v %v", u, err)
		}
		if _, err := s.SessionUser(ctx, sess.Token+"x"); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Fatalf("forged token: %v", err)
		}
		users, _ := s.Users(ctx)
		if len(users) != 2 || users[0].Roles[0] != server.RoleCashier || !users[0].MustChange || users[1].MustChange {
			t.Fatalf("users %+v", users)
		}
	})
}

// TestLockout (IA-7, IP-7): 5 failures lock a login for 30 minutes — an
// unknown login alike, with the same answers — and a success or 15
// minutes without failure starts the count again.
func TestLockout(t *testing.T) {
	forEachClockStore(t, time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC), func(t *testing.T, s *server.Store, c *clock) {
		ctx := context.Background()
		must(t, s.AddUser(sysCtx(), server.User{Login: "lin", Name: "林小燕", Roles: []string{server.RoleCashier}}, pw1))
		answers := map[string][]string{}
		for _, login := range []string{"lin", "ghost"} {
			for i := 0; i < 5; i++ {
				_, err := s.Login(ctx, login, "Wrong#Pass9")
				answers[login] = append(answers[login], err.Error())
			}
		}
		for i := range answers["lin"] {
			if answers["lin"][i] != answers["ghost"][i] {
				t.Errorf("failure %d: %q for a user, %q for an unknown login", i+1, answers["lin"][i], answers["ghost"][i])
			}
		}
		if !strings.Contains(answers["lin"][4], "锁定至") || strings.Contains(answers["lin"][3], "锁定") {
			t.Fatalf("the fifth failure locks, not before: %q", answers["lin"])
		}
		if _, err := s.Login(ctx, "lin", pw1); err == nil || !strings.Contains(err.Error(), "锁定") {
			t.Fatalf("the right password while locked: %v", err)
		}
		c.t = c.t.Add(29 * time.Minute)
		if _, err := s.Login(ctx, "lin", pw1); err == nil {
			t.Fatal("let in after 29 minutes")
		}
		c.t = c.t.Add(2 * time.Minute)
		if _, err := s.Login(ctx, "LIN", pw1); err != nil {
			t.Fatalf("after 30 minutes (login in capitals): %v", err)
		}
		// Four failures, 16 minutes, four more: no lock.
		for i := 0; i < 4; i++ {
			s.Login(ctx, "lin", "Wrong#Pass9")
		}
		c.t = c.t.Add(16 * time.Minute)
		for i := 0; i < 4; i++ {
			s.Login(ctx, "lin", "Wrong#Pass9")
		}
		if _, err := s.Login(ctx, "lin", pw1); err != nil {
			t.Fatalf("failures 16 minutes apart locked the account: %v", err)
		}
		// The security administrator unlocks.
		for i := 0; i < 5; i++ {
			s.Login(ctx, "lin", "Wrong#Pass9")
		}
		sec := signedInMFA(t, s, c, "sec", server.RoleSecAdmin)
		must(t, s.Unlock(asUser(&sec.User), "lin"))
		if _, err := s.Login(ctx, "lin", pw1); err != nil {
			t.Fatalf("after unlock: %v", err)
		}
	})
}

func TestAuditTrail(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:admin", From: "host1", System: true})
		setupUnit(t, s)
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		a := enrollStation(t, s, "P01")
		a.issue(t, "outpatient.json", "AU-1")
		_, err := s.Upload(server.WithActor(ctx, server.Actor{Who: "station:P01", From: "10.0.0.5"}), "P01", a.pending(t))
		must(t, err)
		s.Login(ctx, "ghost", "Wrong#Pass9")
		n, err := s.VerifyAudit(ctx)
		must(t, err)
		recs, _ := s.AuditTrail(ctx, 0, 100)
		if int64(len(recs)) != n {
			t.Fatalf("verify counted %d, trail has %d", n, len(recs))
		}
		var actions []string
		for _, r := range recs {
			actions = append(actions, r.Action)
		}
		joined := strings.Join(actions, ",")
		for _, want := range []string{"unit.set", "kind.set", "stock.receive", "point.add", "point.enroll_code", "point.enroll", "bills.upload", "login.fail"} {
			if !strings.Contains(joined, want) {
				t.Errorf("no %s record in %s", want, joined)
			}
		}
		last := recs[len(recs)-2] // the upload
		if last.Actor != "station:P01" || last.Remote != "10.0.0.5" || !strings.Contains(string(last.Detail), `"stored":1`) {
			t.Fatalf("upload record %+v", last)
		}
		// The trail refuses edits; one forced through is caught by verify.
		db := s.DB()
		if _, err := db.Exec("UPDATE audit SET actor = 'someone' WHERE seq = 1"); err == nil {
			t.Fatal("audit row updated")
		}
		if s.Dialect() == server.SQLite {
			db.Exec("DROP TRIGGER audit_no_update")
			must(t, execSQL(db, "UPDATE audit SET actor = 'someone' WHERE seq = 2"))
		} else {
			must(t, execSQL(db, "ALTER TABLE audit DISABLE TRIGGER audit_no_change"))
			must(t, execSQL(db, "UPDATE audit SET actor = 'someone' WHERE seq = 2"))
		}
		if _, err := s.VerifyAudit(ctx); bill.ErrorCode(err) != bill.ETampered || !strings.Contains(err.Error(), "第 2 条") {
			t.Fatalf("tampered trail: %v", err)
		}
	})
}

func execSQL(db *sql.DB, q string) error {
	_, err := db.Exec(q)
	return err
}

// TestChangePassword (IA-2..5, SE-3): a new account signs in only to
// change its one-time password; the new one follows the policy and is none
// of the last five; the change ends the user's other sessions and reaches
// the stations.
func TestChangePassword(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := sysCtx()
		must(t, s.AddUser(ctx, server.User{Login: "lin", Name: "林小燕", Roles: []string{server.RoleCashier}}, pw1))
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		before, err := s.MasterDataSince(ctx, "P01", 0)
		must(t, err)
		sess, err := s.Login(ctx, "lin", pw1)
		must(t, err)
		if _, err := s.Full(ctx, sess.Token); err == nil || !strings.Contains(err.Error(), "PASSWORD_EXPIRED") {
			t.Fatalf("a one-time password's session did more than change it: %v", err)
		}
		other, err := s.Login(ctx, "lin", pw1)
		must(t, err)
		for _, tc := range []struct{ old, next, want string }{
			{"Wrong#Horse7", "Battery#Staple8", "原密码不正确"},
			{pw1, "Sh0rt!", "至少 8 位"},
			{pw1, "batterystaple", "至少 3 类"},
			{pw1, "Lin#Staple88", "登录名"},
			{pw1, "Admin@123", "弱密码"},
			{pw1, pw1, "最近 5 次"},
		} {
			if _, err := s.ChangePassword(ctx, sess.Token, tc.old, tc.next); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s → %s: %v, want %q", tc.old, tc.next, err, tc.want)
			}
		}
		if _, err := s.ChangePassword(ctx, "not a token", pw1, "Battery#Staple8"); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Fatalf("bad token: %v", err)
		}
		next, err := s.ChangePassword(ctx, sess.Token, pw1, "Battery#Staple8")
		must(t, err)
		if next.Stage != server.StageFull || next.Token == sess.Token {
			t.Fatalf("after the change: stage %s, same token %v", next.Stage, next.Token == sess.Token)
		}
		for name, tok := range map[string]string{"the changing session's old token": sess.Token, "another session": other.Token} {
			if _, err := s.Session(ctx, tok); bill.ErrorCode(err) != bill.EUnauthorized {
				t.Errorf("%s survived the change: %v", name, err)
			}
		}
		if _, err := s.Login(ctx, "lin", pw1); err == nil {
			t.Fatal("the old password still signs in")
		}
		// History: five changes later the first password comes back.
		pws := []string{"Battery#Staple8", "Battery#Staple9", "Battery#Staple10", "Battery#Staple11", "Battery#Staple12", "Battery#Staple13"}
		tok := next.Token
		for i := 1; i < len(pws); i++ {
			n, err := s.ChangePassword(ctx, tok, pws[i-1], pws[i])
			must(t, err)
			tok = n.Token
		}
		for _, old := range pws[1:5] {
			if _, err := s.ChangePassword(ctx, tok, pws[5], old); err == nil {
				t.Errorf("%s, one of the last five, came back", old)
			}
		}
		if _, err := s.ChangePassword(ctx, tok, pws[5], pws[0]); err != nil {
			t.Errorf("the sixth password back: %v", err)
		}
		// The new hash reaches the stations with the next pull.
		after, err := s.MasterDataSince(ctx, "P01", before.Version)
		must(t, err)
		if len(after.Users) != 1 || after.Users[0].PasswordHash == before.Users[0].PasswordHash {
			t.Fatalf("pull after the change: %+v", after.Users)
		}
		if !before.Users[0].MustChange || after.Users[0].MustChange {
			t.Fatalf("stations learn the one-time password and its change: %v then %v", before.Users[0].MustChange, after.Users[0].MustChange)
		}
	})
}
