package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/server"
)

// The sign-in: the password, then what the session still owes — the
// second factor's code, a new password (first sign-in, reset, expiry),
// setting a second factor up — each on its own page.

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if sess, _, _ := c.signedIn(r); sess != nil {
		http.Redirect(w, r, stagePath(sess.Stage), http.StatusSeeOther)
		return
	}
	c.render(w, http.StatusOK, "login", &view{Title: "登录"})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	login := strings.TrimSpace(r.PostFormValue("login"))
	ctx := server.WithActor(r.Context(), server.Actor{Who: "user:" + server.Truncate(login, 50), From: r.RemoteAddr})
	sess, err := c.store.Login(ctx, login, r.PostFormValue("password"))
	if err != nil {
		// The same page and words whether the login exists or not.
		c.render(w, http.StatusUnauthorized, "login", &view{Title: "登录", Error: bill.ErrorMessage(err)})
		return
	}
	setCookie(w, sess.Token)
	http.Redirect(w, r, stagePath(sess.Stage), http.StatusSeeOther)
}

func (c *Console) mfaPage(w http.ResponseWriter, r *http.Request, sess *server.Session) {
	c.render(w, http.StatusOK, "mfa", &view{Title: "动态验证码", User: &sess.User})
}

func (c *Console) mfa(w http.ResponseWriter, r *http.Request, sess *server.Session) {
	next, err := c.store.VerifyMFA(r.Context(), sess.Token, r.PostFormValue("code"))
	if err != nil {
		status := http.StatusUnauthorized
		if bill.ErrorCode(err) != bill.EUnauthorized {
			status = http.StatusBadRequest
		}
		c.render(w, status, "mfa", &view{Title: "动态验证码", User: &sess.User, Error: bill.ErrorMessage(err)})
		return
	}
	http.Redirect(w, r, stagePath(next.Stage), http.StatusSeeOther)
}

func (c *Console) passwordPage(w http.ResponseWriter, r *http.Request, sess *server.Session) {
	c.render(w, http.StatusOK, "password", &view{Title: "修改密码", User: &sess.User})
}

func (c *Console) password(w http.ResponseWriter, r *http.Request, sess *server.Session) {
	if r.PostFormValue("new") != r.PostFormValue("confirm") {
		c.render(w, http.StatusBadRequest, "password", &view{Title: "修改密码", User: &sess.User, Error: "两次输入的新密码不一致，请重新输入。"})
		return
	}
	next, err := c.store.ChangePassword(r.Context(), sess.Token, r.PostFormValue("old"), r.PostFormValue("new"))
	if err != nil {
		if bill.ErrorCode(err) == bill.EUnauthorized && strings.Contains(bill.ErrorMessage(err), "锁定") {
			c.toLogin(w, r, err)
			return
		}
		c.render(w, http.StatusBadRequest, "password", &view{Title: "修改密码", User: &sess.User, Error: bill.ErrorMessage(err)})
		return
	}
	setCookie(w, next.Token) // every other session of the user has ended
	http.Redirect(w, r, stagePath(next.Stage), http.StatusSeeOther)
}

// enrollView is the page that sets a second factor up.
type enrollView struct {
	Secret string
	QR     template.URL // a data: URL of the otpauth QR code (a PNG we made)
}

func (c *Console) enrollPage(w http.ResponseWriter, r *http.Request, sess *server.Session) {
	c.renderEnroll(w, r, sess, http.StatusOK, "")
}

func (c *Console) renderEnroll(w http.ResponseWriter, r *http.Request, sess *server.Session, status int, msg string) {
	secret, url, err := c.store.BeginTOTP(r.Context(), sess.Token)
	if err != nil {
		c.render(w, http.StatusInternalServerError, "error", &view{Title: "绑定动态验证码", Error: bill.ErrorMessage(err)})
		return
	}
	png, err := printing.QRPNG(url, 220)
	if err != nil {
		c.log.Error("QR", "err", err)
	}
	active := ""
	if sess.Stage == server.StageFull {
		active = "/admin/me" // set up from 个人设置, not as a sign-in step
	}
	c.render(w, status, "enroll", &view{Title: "绑定动态验证码", User: &sess.User, Error: msg, Active: active,
		Data: enrollView{Secret: secret, QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}})
}

func (c *Console) enroll(w http.ResponseWriter, r *http.Request, sess *server.Session) {
	codes, err := c.store.ConfirmTOTP(r.Context(), sess.Token, r.PostFormValue("code"))
	if err != nil {
		c.renderEnroll(w, r, sess, http.StatusBadRequest, bill.ErrorMessage(err))
		return
	}
	c.render(w, http.StatusOK, "backup-codes", &view{Title: "备用码", User: &sess.User, Data: codes})
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(CookieName); err == nil {
		if err := c.store.Logout(r.Context(), ck.Value); err != nil {
			c.log.Error("logout", "err", err)
		}
	}
	clearCookie(w)
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}
