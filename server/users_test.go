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

func TestUsersAndLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:test", From: "local"})
		must(t, s.AddUser(ctx, server.User{Login: "lin", Name: "林小燕", Roles: []string{server.RoleCashier}}, "correct horse"))
		for _, tc := range []struct {
			u    server.User
			pw   string
			want string
		}{
			{server.User{Login: "lin", Name: "重复", Roles: []string{server.RoleCashier}}, "password1", "已存在"},
			{server.User{Login: "a1", Name: "甲", Roles: []string{server.RoleSecAdmin, server.RoleAuditor}}, "password1", "三员分立"},
			{server.User{Login: "a2", Name: "乙", Roles: []string{server.RoleSysAdmin, server.RoleCashier}}, "password1", "三员分立"},
			{server.User{Login: "a3", Name: "丙", Roles: []string{"boss"}}, "password1", "未知角色"},
			{server.User{Login: "a4", Name: "丁", Roles: []string{server.RoleFinance}}, "short", "至少"},
			{server.User{Login: "a b", Name: "戊", Roles: []string{server.RoleFinance}}, "password1", "登录名"},
		} {
			if err := s.AddUser(ctx, tc.u, tc.pw); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("AddUser(%+v): %v, want %q", tc.u, err, tc.want)
			}
		}
		sess, err := s.Login(ctx, "lin", "correct horse")
		must(t, err)
		u, err := s.SessionUser(ctx, sess.Token)
		if err != nil || u.Login != "lin" || !u.Can("bill.issue") || u.Can("user.manage") {
			t.Fatalf("session user %+v %v", u, err)
		}
		if _, err := s.SessionUser(ctx, sess.Token+"x"); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Fatalf("forged token: %v", err)
		}
		if _, err := s.Login(ctx, "nobody", "x"); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Fatalf("unknown user: %v", err)
		}
		for i := 0; i < 5; i++ {
			if _, err := s.Login(ctx, "lin", "wrong"); bill.ErrorCode(err) != bill.EUnauthorized {
				t.Fatalf("wrong password %d: %v", i, err)
			}
		}
		if _, err := s.Login(ctx, "lin", "correct horse"); err == nil || !strings.Contains(err.Error(), "锁定") {
			t.Fatalf("after 5 failures the right password must be refused while locked: %v", err)
		}
		users, _ := s.Users(ctx)
		if len(users) != 1 || users[0].Roles[0] != server.RoleCashier {
			t.Fatalf("users %+v", users)
		}
	})
}

func TestLockoutExpires(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)}
	s, err := server.OpenStore(context.Background(), "", t.TempDir(), server.WithStoreClock(c.now))
	must(t, err)
	defer s.Close()
	ctx := context.Background()
	must(t, s.AddUser(ctx, server.User{Login: "lin", Name: "林小燕", Roles: []string{server.RoleCashier}}, "correct horse"))
	for i := 0; i < 5; i++ {
		s.Login(ctx, "lin", "wrong")
	}
	if _, err := s.Login(ctx, "lin", "correct horse"); err == nil {
		t.Fatal("locked account let in")
	}
	c.t = c.t.Add(16 * time.Minute)
	if _, err := s.Login(ctx, "lin", "correct horse"); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
}

func TestAuditTrail(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:admin", From: "host1"})
		setupUnit(t, s)
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		a := enrollStation(t, s, "P01")
		a.issue(t, "outpatient.json", "AU-1")
		_, err := s.Upload(server.WithActor(ctx, server.Actor{Who: "station:P01", From: "10.0.0.5"}), "P01", a.pending(t))
		must(t, err)
		s.Login(ctx, "ghost", "x")
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

func TestChangePassword(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:test", From: "local"})
		must(t, s.AddUser(ctx, server.User{Login: "lin", Name: "林小燕", Roles: []string{server.RoleCashier}}, "correct horse"))
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		before, err := s.MasterDataSince(ctx, "P01", 0)
		must(t, err)
		sess, err := s.Login(ctx, "lin", "correct horse")
		must(t, err)
		if err := s.ChangePassword(ctx, sess.Token, "wrong horse", "battery staple"); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Fatalf("wrong old password: %v", err)
		}
		if err := s.ChangePassword(ctx, "not a token", "correct horse", "battery staple"); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Fatalf("bad token: %v", err)
		}
		if err := s.ChangePassword(ctx, sess.Token, "correct horse", "short"); bill.ErrorCode(err) != bill.EInvalid {
			t.Fatalf("short password: %v", err)
		}
		must(t, s.ChangePassword(ctx, sess.Token, "correct horse", "battery staple"))
		if _, err := s.Login(ctx, "lin", "correct horse"); err == nil {
			t.Fatal("the old password still signs in")
		}
		if _, err := s.Login(ctx, "lin", "battery staple"); err != nil {
			t.Fatalf("the new password: %v", err)
		}
		// The new hash reaches the stations with the next pull.
		after, err := s.MasterDataSince(ctx, "P01", before.Version)
		must(t, err)
		if len(after.Users) != 1 || after.Users[0].PasswordHash == before.Users[0].PasswordHash {
			t.Fatalf("pull after the change: %+v", after.Users)
		}
	})
}
