package ui

import (
	"context"
	gosync "sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/crypto/bcrypt"

	"github.com/ebill/ebill/bill"
)

// Sign-in lockout at the station: after MaxLoginFailures wrong passwords
// in a row the login is refused for LoginLockout, online or not.
const (
	MaxLoginFailures = 5
	LoginLockout     = 15 * time.Minute
)

// LoginScreen signs a user in: at the server when it answers, else with the
// credentials cached at the station (bcrypt hashes from the last sync).
type LoginScreen struct {
	env      *Env
	Login    *widget.Entry
	Password *widget.Entry
	Message  *widget.Label
	Button   *keyButton
	onDone   func(*Session)
	busy     bool

	// The first sign-in's (or a reset or expired password's) change.
	NewPassword  *widget.Entry
	Repeat       *widget.Entry
	ChangeButton *keyButton
	loginBox     fyne.CanvasObject
	changeBox    fyne.CanvasObject
	body         *fyne.Container // holds the sign-in form, or the change
	pending      *Session
	old          string
}

// NewLoginScreen builds the screen; done receives the signed-in user.
func NewLoginScreen(env *Env, done func(*Session)) *LoginScreen {
	sc := &LoginScreen{env: env, Login: widget.NewEntry(), Password: widget.NewPasswordEntry(), Message: widget.NewLabel(""), onDone: done}
	sc.Login.SetPlaceHolder("登录名")
	sc.Password.SetPlaceHolder("密码")
	sc.Login.OnSubmitted = func(string) {
		if c := fyne.CurrentApp().Driver().CanvasForObject(sc.Login); c != nil {
			c.Focus(sc.Password)
		}
	}
	sc.Password.OnSubmitted = func(string) { sc.Submit() }
	sc.Button = newButton("登录", sc.Submit)
	sc.Button.Importance = widget.HighImportance
	sc.NewPassword, sc.Repeat = widget.NewPasswordEntry(), widget.NewPasswordEntry()
	sc.NewPassword.OnSubmitted = func(string) {
		if c := fyne.CurrentApp().Driver().CanvasForObject(sc.NewPassword); c != nil {
			c.Focus(sc.Repeat)
		}
	}
	sc.Repeat.OnSubmitted = func(string) { sc.SubmitChange() }
	sc.ChangeButton = newButton("修改密码并登录", sc.SubmitChange)
	sc.ChangeButton.Importance = widget.HighImportance
	sc.Message.Wrapping = fyne.TextWrapWord
	return sc
}

// Content is the screen.
func (sc *LoginScreen) Content() fyne.CanvasObject {
	title := widget.NewLabelWithStyle("医疗电子票据 · 收费开票", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	place := widget.NewLabel("")
	if st, err := sc.env.Store.Station(bg()); err == nil {
		place.SetText("开票点：" + st.PlaceCode + " " + st.PlaceName + "    " + st.UnitName)
	}
	form := widget.NewForm(widget.NewFormItem("登录名", sc.Login), widget.NewFormItem("密码", sc.Password))
	sc.loginBox = container.NewVBox(form, sc.Button)
	change := widget.NewForm(widget.NewFormItem("新密码", sc.NewPassword), widget.NewFormItem("再次输入", sc.Repeat))
	sc.changeBox = container.NewVBox(change, sc.ChangeButton)
	sc.body = container.NewStack(sc.loginBox)
	box := container.NewVBox(title, place, sc.body, sc.Message)
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(420, 300), box))
}

// Submit signs in (in the background).
func (sc *LoginScreen) Submit() {
	if sc.busy {
		return
	}
	login, password := sc.Login.Text, sc.Password.Text
	if login == "" || password == "" {
		sc.Message.SetText("请输入登录名和密码。")
		return
	}
	sc.busy = true
	sc.Message.SetText("正在登录…")
	Go(sc.env.Bridge, func(ctx context.Context) (*Session, error) {
		return SignIn(ctx, sc.env, login, password)
	}, func(s *Session, err error) {
		sc.busy = false
		sc.Password.SetText("")
		if err != nil {
			sc.Message.SetText(bill.ErrorMessage(err))
			return
		}
		sc.Message.SetText("")
		if s.MustChange {
			sc.startChange(s, password)
			return
		}
		sc.onDone(s)
	})
}

// startChange asks for a new password before the desk opens: the one
// given was set by an administrator (first sign-in, reset) or expired.
func (sc *LoginScreen) startChange(s *Session, old string) {
	sc.pending, sc.old = s, old
	c := fyne.CurrentApp().Driver().CanvasForObject(sc.Password) // while the sign-in form still shows
	sc.body.Objects = []fyne.CanvasObject{sc.changeBox}
	sc.body.Refresh()
	sc.Message.SetText("首次登录或密码已被重置（或已满 90 天），请设置新密码：至少 8 位，含大写字母、小写字母、数字、符号中的至少 3 类，不含登录名。")
	if c != nil {
		c.Focus(sc.NewPassword)
	}
}

// SubmitChange changes the password at the server, then opens the desk.
func (sc *LoginScreen) SubmitChange() {
	if sc.busy || sc.pending == nil {
		return
	}
	next := sc.NewPassword.Text
	if next != sc.Repeat.Text {
		sc.Message.SetText("两次输入的新密码不一致，请重新输入。")
		return
	}
	sc.busy = true
	s, old := sc.pending, sc.old
	Go(sc.env.Bridge, func(ctx context.Context) (string, error) {
		return sc.env.Client.ChangePassword(ctx, s.Token, old, next)
	}, func(token string, err error) {
		sc.busy = false
		sc.NewPassword.SetText("")
		sc.Repeat.SetText("")
		if err != nil {
			sc.Message.SetText(bill.ErrorMessage(err))
			return
		}
		s.Token, s.MustChange = token, false
		sc.pending, sc.old = nil, ""
		sc.onDone(s)
	})
}

var errUseConsole = bill.Errorf(bill.EForbidden, "该账号须使用双因素认证，请在浏览器中使用票据管理端（服务器地址/admin/）；收费桌面供收费员、体检护士和财务使用。")

// offlineDummyHash is a hash no password matches, made once at the cost
// of the accounts' own, for unknown logins.
var offlineDummyHash = gosync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no account has this password"), bcrypt.DefaultCost)
	return h
})

// SignIn checks a user's password: at the server when it answers, else
// against the station's cached hash; failures count toward the lockout.
func SignIn(ctx context.Context, env *Env, login, password string) (*Session, error) {
	st := env.Store
	lock, err := st.LoginLockOf(ctx, login)
	if err != nil {
		return nil, err
	}
	if lock.Locked(env.now()) {
		return nil, bill.Errorf(bill.EUnauthorized, "密码错误次数过多，账号在本机已锁定至 %s；请稍后再试或联系安全管理员。",
			lock.LockedUntil.In(bill.Beijing).Format("15:04"))
	}
	fail := func(msg string) (*Session, error) {
		l, err := st.RecordLoginFailure(ctx, login, env.now(), MaxLoginFailures, LoginLockout)
		if err != nil {
			return nil, err
		}
		if l.Locked(env.now()) {
			return nil, bill.Errorf(bill.EUnauthorized, "密码连续错误 %d 次，账号在本机锁定 %d 分钟。", MaxLoginFailures, int(LoginLockout.Minutes()))
		}
		return nil, bill.Errorf(bill.EUnauthorized, "%s（还可再试 %d 次）", msg, MaxLoginFailures-l.Failures)
	}
	if env.Client != nil {
		cctx, cancel := context.WithTimeout(ctx, 4*time.Second)
		resp, err := env.Client.Login(cctx, login, password)
		cancel()
		switch {
		case err == nil:
			if err := st.ClearLoginFailures(ctx, login); err != nil {
				return nil, err
			}
			switch resp.Stage {
			case "mfa", "enroll":
				return nil, errUseConsole
			}
			return &Session{Login: resp.Login, Name: resp.Name, Roles: resp.Roles, Token: resp.Token, MustChange: resp.Stage == "password"}, nil
		case bill.ErrorCode(err) == bill.EUnauthorized:
			if msg := bill.ErrorMessage(err); msg != "登录名或密码不正确。" {
				return nil, err // locked or disabled at the server: say so as it does
			}
			return fail("登录名或密码不正确")
		}
		env.Log.Info("server unreachable; signing in offline", "err", err)
	}
	u, err := st.OfflineUserByLogin(ctx, login)
	if bill.ErrorCode(err) == bill.ENotFound {
		u, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	// An unknown login costs the same work and gets the same answer as a
	// wrong password: the desk does not tell who has an account.
	hash := offlineDummyHash()
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u == nil {
		return fail("登录名或密码不正确（离线时只能用本机已同步的账号）")
	}
	if u.Disabled {
		return nil, bill.Errorf(bill.EUnauthorized, "账号已停用，请联系安全管理员。")
	}
	if err := st.ClearLoginFailures(ctx, login); err != nil {
		return nil, err
	}
	if u.SecondFactor {
		return nil, errUseConsole
	}
	if u.MustChange {
		return nil, bill.Errorf(bill.EUnauthorized, "这是管理员设置的一次性密码（或密码已过期），须先联网登录并设置新密码；请在本机连上服务器后再登录。")
	}
	return &Session{Login: u.Login, Name: u.Name, Roles: u.Roles, Offline: env.Client != nil}, nil
}
