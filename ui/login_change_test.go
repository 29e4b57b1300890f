package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
)

// TestFirstSignInChangesPassword (IA-5 at the desk): an account an
// administrator made signs in online only to set a new password; the desk
// opens after the change, and the new password is the one that signs in.
func TestFirstSignInChangesPassword(t *testing.T) {
	f := newEnrolledFixture(t)
	if f.env.Client == nil {
		t.Fatal("the fixture has no server")
	}
	var got *Session
	ls := NewLoginScreen(f.env, func(s *Session) { got = s })
	f.win.SetContent(ls.Content())
	f.win.Canvas().Focus(ls.Login)
	f.typeText("lin")
	f.key(fyne.KeyReturn)
	f.typeText(testPassword)
	f.key(fyne.KeyReturn)
	f.env.Bridge.Wait()
	if got != nil || len(ls.body.Objects) != 1 || ls.body.Objects[0] != ls.changeBox {
		t.Fatalf("a one-time password opened the desk (%+v) or no change form: %q", got, ls.Message.Text)
	}
	if f.win.Canvas().Focused() != ls.NewPassword {
		t.Fatal("the cursor is not in the new password")
	}
	const next = "Fresh#Start2026"
	f.typeText("weakpass")
	f.key(fyne.KeyReturn)
	f.typeText("weakpass")
	f.key(fyne.KeyReturn)
	f.env.Bridge.Wait()
	if got != nil || ls.Message.Text == "" {
		t.Fatalf("a weak password was taken: %+v", got)
	}
	f.win.Canvas().Focus(ls.NewPassword)
	f.typeText(next)
	f.key(fyne.KeyReturn)
	f.typeText(next)
	f.key(fyne.KeyReturn)
	f.env.Bridge.Wait()
	if got == nil || got.MustChange || got.Token == "" {
		t.Fatalf("after the change: %+v, message %q", got, ls.Message.Text)
	}
	s, err := SignIn(context.Background(), f.env, "lin", next)
	if err != nil || s.MustChange || s.Offline {
		t.Fatalf("signing in with the new password: %+v %v", s, err)
	}
	if _, err := SignIn(context.Background(), f.env, "lin", testPassword); err == nil {
		t.Fatal("the one-time password still signs in")
	}
}

// TestOfflineSignInRefusesOneTimePassword (IA-5 offline): a user who must
// change a one-time password cannot sign in offline — the change needs
// the server — and is told so once the password is right.
func TestOfflineSignInRefusesOneTimePassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err := f.store.ApplyMasterData(ctx, localstore.MasterData{Version: 2, Users: []localstore.OfflineUser{
		{Login: "zhou", Name: "周新", PasswordHash: string(hash), Roles: []string{"cashier"}, MustChange: true}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := SignIn(ctx, f.env, "zhou", "Wrong#Pass1"); err == nil || strings.Contains(bill.ErrorMessage(err), "一次性密码") {
		t.Fatalf("a wrong password: %v", err)
	}
	if _, err := SignIn(ctx, f.env, "zhou", testPassword); err == nil || !strings.Contains(bill.ErrorMessage(err), "须先联网") {
		t.Fatalf("a one-time password offline: %v", err)
	}
	if s, err := SignIn(ctx, f.env, "lin", testPassword); err != nil || s.Name != "林小燕" {
		t.Fatalf("another cashier offline: %+v %v", s, err)
	}
}

// TestDeskRefusesSecondFactorRoles (IA-8): a role that must use a second
// factor does not sign in at the desk, online or offline; it is sent to
// the console.
func TestDeskRefusesSecondFactorRoles(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err := f.store.ApplyMasterData(ctx, localstore.MasterData{Version: 3, Users: []localstore.OfflineUser{
		{Login: "chen", Name: "陈建国", PasswordHash: string(hash), Roles: []string{"bill_admin"}, SecondFactor: true}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := SignIn(ctx, f.env, "chen", testPassword); err == nil || !strings.Contains(bill.ErrorMessage(err), "票据管理端") {
		t.Fatalf("a bill administrator at the desk offline: %v", err)
	}
}

// TestOfflineSignInUnknownLogin (issue 18 #5): offline, a login this
// station does not hold gets the answer a wrong password gets, and the
// same bcrypt work — nothing tells who has an account; a removed account
// (master data says so) is gone from the station.
func TestOfflineSignInUnknownLogin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.DefaultCost)
	if err := f.store.ApplyMasterData(ctx, localstore.MasterData{Version: 2, Users: []localstore.OfflineUser{
		{Login: "zhou", Name: "周新", PasswordHash: string(hash), Roles: []string{"cashier"}},
		{Login: "it", Removed: true}}}); err != nil {
		t.Fatal(err)
	}
	strip := func(err error) string { // the tries left differ per login
		m := bill.ErrorMessage(err)
		if i := strings.Index(m, "（还可"); i >= 0 {
			return m[:i]
		}
		return m
	}
	start := time.Now()
	_, wrong := SignIn(ctx, f.env, "zhou", "Wrong#Pass1")
	known := time.Since(start)
	start = time.Now()
	_, unknown := SignIn(ctx, f.env, "nobody", "Wrong#Pass1")
	took := time.Since(start)
	if wrong == nil || unknown == nil || strip(wrong) != strip(unknown) {
		t.Fatalf("a wrong password %q, an unknown login %q", bill.ErrorMessage(wrong), bill.ErrorMessage(unknown))
	}
	if took < known/4 {
		t.Fatalf("an unknown login took %s, a wrong password %s", took, known)
	}
	if u, err := f.store.OfflineUserByLogin(ctx, "it"); bill.ErrorCode(err) != bill.ENotFound {
		t.Fatalf("a removed account is still held: %+v %v", u, err)
	}
}
