package server

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ebill/ebill/bill"
)

// Session stages: what a signed-in session may do yet. Only a full
// session does anything beyond its stage's own step.
const (
	StageMFA      = "mfa"      // the second factor's code is due
	StagePassword = "password" // the password must be changed (first sign-in, reset, expiry)
	StageEnroll   = "enroll"   // a second factor must be set up
	StageFull     = "full"
)

// Session is a signed-in person's session: its token (given once, at
// sign-in, and kept only as a hash), its stage, and its limits.
type Session struct {
	Token     string    `json:"token,omitempty"`
	ID        string    `json:"id"` // the first characters of the token's hash, to name it in lists
	Stage     string    `json:"stage"`
	User      User      `json:"user"`
	CreatedAt time.Time `json:"createdAt"`
	LastSeen  time.Time `json:"lastSeen"`
	ExpiresAt time.Time `json:"expiresAt"` // the absolute end
	Remote    string    `json:"remote,omitempty"`
}

// StageError is what a session that is not full answers to anything but
// its step: PASSWORD_EXPIRED, MFA_REQUIRED or MFA_ENROLL in the message,
// for the console and scripts to act on.
func StageError(stage string) error {
	switch stage {
	case StageMFA:
		return bill.Errorf(bill.EForbidden, "MFA_REQUIRED：请输入动态验证码完成登录。")
	case StagePassword:
		return bill.Errorf(bill.EForbidden, "PASSWORD_EXPIRED：密码为一次性密码或已过期，请先修改密码。")
	case StageEnroll:
		return bill.Errorf(bill.EForbidden, "MFA_ENROLL：您的角色须使用双因素认证，请先绑定动态验证码。")
	}
	return nil
}

// nextStage is the first step a user still owes in a session; mfaDone
// says the session has passed its second factor.
func (p Policy) nextStage(u *userRow, mfaDone bool, now time.Time) string {
	switch {
	case u.MFA && !mfaDone:
		return StageMFA
	case u.MustChange || now.Sub(u.ChangedAt) > p.MaxAge():
		return StagePassword
	case !u.MFA && p.NeedsMFA(u.Roles):
		return StageEnroll
	}
	return StageFull
}

// denied is the one answer to a failed sign-in, whether the login exists,
// is disabled or the password is wrong (IP-7).
var denied = bill.Errorf(bill.EUnauthorized, "登录名或密码不正确。")

func lockedError(until time.Time) error {
	return bill.Errorf(bill.EUnauthorized, "登录失败次数过多，已锁定至 %s；请稍后再试或联系安全管理员解锁。",
		until.In(bill.Beijing).Format("15:04"))
}

// failTx counts a failed sign-in (or second-factor code) of a login,
// known or not, and locks it after the policy's number of failures in a
// row. It returns the lock's end when this failure locked it.
func (s *Store) failTx(ctx context.Context, t *dbtx, p Policy, key string) (time.Time, error) {
	now := s.now()
	var failures int
	var last, locked int64
	err := t.queryRow(ctx, "SELECT failures, last_at, locked_until FROM login_failures WHERE login = ?"+s.forUpdate(), key).
		Scan(&failures, &last, &locked)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, err
	}
	if now.Sub(time.UnixMilli(last)) > p.Window() {
		failures = 0
	}
	failures++
	var until time.Time
	if failures >= p.MaxFailures {
		until, failures = now.Add(p.Lock()), 0
		locked = until.UnixMilli()
	}
	if _, err := t.exec(ctx, `INSERT INTO login_failures (login, failures, last_at, locked_until) VALUES (?,?,?,?)
		ON CONFLICT (login) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at, locked_until = excluded.locked_until`,
		key, failures, now.UnixMilli(), locked); err != nil {
		return time.Time{}, err
	}
	if !until.IsZero() {
		return until, t.audit(ctx, "account.lock", key, map[string]any{"until": until.UTC()})
	}
	return until, nil
}

// lockedUntil is the end of a login's lockout, zero when not locked.
func (s *Store) lockedUntil(ctx context.Context, t *dbtx, key string) (time.Time, error) {
	var locked int64
	err := t.queryRow(ctx, "SELECT locked_until FROM login_failures WHERE login = ?", key).Scan(&locked)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && locked <= s.millis()) {
		return time.Time{}, nil
	}
	return time.UnixMilli(locked), err
}

// Login signs a person in with login and password. The session it opens
// may still owe a step (its Stage): a second-factor code, a password
// change, setting a second factor up. Failures are counted per login —
// unknown logins too — and lock it for a while; every attempt is audited.
func (s *Store) Login(ctx context.Context, login, password string) (*Session, error) {
	p, err := s.Policy(ctx)
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(strings.TrimSpace(login))
	if len(key) > 200 || !utf8.ValidString(key) {
		// No account has such a login (at most 50 characters): the same
		// answer and work as a wrong password, nothing written.
		passwordMatches(dummyHash, password)
		return nil, denied
	}
	var sess *Session
	var failure error
	err = s.tx(ctx, func(t *dbtx) error {
		failure = nil
		if until, err := s.lockedUntil(ctx, t, key); err != nil || !until.IsZero() {
			passwordMatches(dummyHash, password) // the same work as any other answer
			failure = lockedError(until)
			if err != nil {
				return err
			}
			return t.audit(ctx, "login.fail", key, map[string]string{"reason": "locked"})
		}
		u, err := s.userTx(ctx, t, key, true)
		reason := ""
		switch {
		case bill.ErrorCode(err) == bill.ENotFound:
			passwordMatches(dummyHash, password)
			reason = "unknown"
		case err != nil:
			return err
		case !passwordMatches(u.hash, password):
			reason = "password"
		case u.Disabled:
			reason = "disabled"
		}
		if reason != "" {
			failure = denied
			until, err := s.failTx(ctx, t, p, key)
			if err != nil {
				return err
			}
			if !until.IsZero() {
				failure = lockedError(until)
			}
			return t.audit(ctx, "login.fail", key, map[string]string{"reason": reason})
		}
		if _, err := t.exec(ctx, "DELETE FROM login_failures WHERE login = ?", key); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "UPDATE users SET last_login_at = ? WHERE login = ?", s.millis(), u.Login); err != nil {
			return err
		}
		if weakHash(u.hash) { // made again at today's work factor, and sent to the stations
			h, err := hashPassword(password)
			if err != nil {
				return err
			}
			if err := s.bumpUserTx(ctx, t, u.Login, "password_hash = ?", h); err != nil {
				return err
			}
		}
		sess, err = s.openSessionTx(ctx, t, p, u, p.nextStage(u, false, s.now()))
		if err != nil {
			return err
		}
		return t.audit(ctx, "login", u.Login, map[string]any{"roles": u.Roles, "stage": sess.Stage, "session": sess.ID})
	})
	if err != nil {
		return nil, err
	}
	if failure != nil {
		return nil, failure
	}
	return sess, nil
}

// openSessionTx makes a session with a new random token (256 bits).
func (s *Store) openSessionTx(ctx context.Context, t *dbtx, p Policy, u *userRow, stage string) (*Session, error) {
	raw := make([]byte, 32)
	rand.Read(raw)
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now().UTC()
	sess := &Session{Token: token, ID: tokenHash(token)[:12], Stage: stage, User: u.User, CreatedAt: now, LastSeen: now,
		ExpiresAt: now.Add(p.Lifetime()), Remote: actorOf(ctx).From}
	_, err := t.exec(ctx, `INSERT INTO sessions (token_hash, login, expires_at, created_at, stage, last_seen_at, remote)
		VALUES (?,?,?,?,?,?,?)`, tokenHash(token), u.Login, sess.ExpiresAt.UnixMilli(), now.UnixMilli(), stage, now.UnixMilli(), sess.Remote)
	return sess, err
}

// endSessionsTx ends every session of a user (password change, role
// change, disable, second-factor reset, sign-out everywhere).
func (s *Store) endSessionsTx(ctx context.Context, t *dbtx, login, why string) error {
	res, err := t.exec(ctx, "DELETE FROM sessions WHERE login = ?", login)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return t.audit(ctx, "session.end", login, map[string]any{"why": why, "sessions": n})
	}
	return nil
}

// sessionTx reads a session by token and enforces its limits: idle
// (policy, 15 minutes) and absolute (8 hours). A session past either is
// ended and audited. It does not mark the session as used.
func (s *Store) sessionTx(ctx context.Context, t *dbtx, p Policy, token string) (*Session, *userRow, error) {
	h := tokenHash(token)
	var login, stage, remote string
	var created, last, expires int64
	err := t.queryRow(ctx, "SELECT login, stage, created_at, last_seen_at, expires_at, remote FROM sessions WHERE token_hash = ?"+s.forUpdate(), h).
		Scan(&login, &stage, &created, &last, &expires, &remote)
	if errors.Is(err, sql.ErrNoRows) || token == "" {
		return nil, nil, bill.Errorf(bill.EUnauthorized, "登录已失效，请重新登录。")
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	end := func(why, msg string) (*Session, *userRow, error) {
		if _, err := t.exec(ctx, "DELETE FROM sessions WHERE token_hash = ?", h); err != nil {
			return nil, nil, err
		}
		if err := t.audit(ctx, "session.timeout", login, map[string]string{"why": why, "session": h[:12]}); err != nil {
			return nil, nil, err
		}
		return nil, nil, bill.Errorf(bill.EUnauthorized, "%s", msg)
	}
	if now.Sub(time.UnixMilli(last)) > p.Idle() {
		return end("idle", fmt.Sprintf("超过 %d 分钟未操作，已自动退出；请重新登录。", p.IdleMinutes))
	}
	if now.UnixMilli() >= expires {
		return end("lifetime", fmt.Sprintf("登录已满 %d 小时，请重新登录。", p.SessionHours))
	}
	u, err := s.userTx(ctx, t, login, false)
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled {
		return end("disabled", "账号已停用，请联系系统管理员。")
	}
	return &Session{ID: h[:12], Stage: stage, User: u.User, CreatedAt: time.UnixMilli(created).UTC(), LastSeen: now.UTC(),
		ExpiresAt: time.UnixMilli(expires).UTC(), Remote: remote}, u, nil
}

// Session returns the session of a token and marks it used now; any
// stage (the caller lets a session that is not full do its step only —
// Full does that check).
func (s *Store) Session(ctx context.Context, token string) (*Session, error) {
	p, err := s.Policy(ctx)
	if err != nil {
		return nil, err
	}
	var sess *Session
	var failure error
	err = s.tx(ctx, func(t *dbtx) error {
		var err error
		sess, _, failure = s.sessionTx(ctx, t, p, token)
		if failure != nil {
			if bill.ErrorCode(failure) == bill.EUnauthorized {
				return nil // the timeout is recorded; the answer is the failure
			}
			return failure
		}
		_, err = t.exec(ctx, "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", s.millis(), tokenHash(token))
		return err
	})
	if err != nil {
		return nil, err
	}
	return sess, failure
}

// Full returns the user of a full session, or the stage's error.
func (s *Store) Full(ctx context.Context, token string) (*User, error) {
	sess, err := s.Session(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := StageError(sess.Stage); err != nil {
		return nil, err
	}
	return &sess.User, nil
}

// SessionUser returns the user of a full session (the desk's online calls).
func (s *Store) SessionUser(ctx context.Context, token string) (*User, error) {
	return s.Full(ctx, token)
}

// Logout ends a session.
func (s *Store) Logout(ctx context.Context, token string) error {
	return s.tx(ctx, func(t *dbtx) error {
		var login string
		err := t.queryRow(ctx, "SELECT login FROM sessions WHERE token_hash = ?", tokenHash(token)).Scan(&login)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, "DELETE FROM sessions WHERE token_hash = ?", tokenHash(token)); err != nil {
			return err
		}
		return t.audit(ctx, "logout", login, map[string]string{"session": tokenHash(token)[:12]})
	})
}

// LogoutEverywhere ends every session of the token's user but that one.
func (s *Store) LogoutEverywhere(ctx context.Context, token string) error {
	sess, err := s.Session(ctx, token)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, "DELETE FROM sessions WHERE login = ? AND token_hash <> ?", sess.User.Login, tokenHash(token)); err != nil {
			return err
		}
		return t.audit(ctx, "logout.everywhere", sess.User.Login, nil)
	})
}

// MySessions lists the sessions of the token's user.
func (s *Store) MySessions(ctx context.Context, token string) ([]Session, error) {
	sess, err := s.Session(ctx, token)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, "SELECT token_hash, stage, created_at, last_seen_at, expires_at, remote FROM sessions WHERE login = ? ORDER BY created_at",
		sess.User.Login)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var h string
		var created, last, expires int64
		x := Session{User: sess.User}
		if err := rows.Scan(&h, &x.Stage, &created, &last, &expires, &x.Remote); err != nil {
			return nil, err
		}
		x.ID, x.CreatedAt, x.LastSeen, x.ExpiresAt = h[:12], time.UnixMilli(created).UTC(), time.UnixMilli(last).UTC(), time.UnixMilli(expires).UTC()
		out = append(out, x)
	}
	return out, rows.Err()
}

// ChangePassword changes the password of the token's user, who gives the
// old one; the new one follows the policy and is none of the last
// History. Every session of the user ends; the one that changed it gets a
// new token (returned), at the next step it owes. Stations get the new
// hash with their next pull, for offline sign-in.
func (s *Store) ChangePassword(ctx context.Context, token, old, next string) (*Session, error) {
	var out *Session
	err := s.sessionStep(ctx, token, func(t *dbtx, p Policy, sess *Session, u *userRow) (error, error) {
		if sess.Stage == StageMFA {
			return StageError(StageMFA), nil
		}
		ctx := WithActor(ctx, Actor{Who: "user:" + u.Login, From: actorOf(ctx).From, User: &u.User})
		if !passwordMatches(u.hash, old) {
			return s.refuseAndCount(ctx, t, p, u, bill.Errorf(bill.EUnauthorized, "原密码不正确。"), "password.fail")
		}
		if refusal := p.CheckPassword(u.Login, next); refusal != nil {
			return refusal, nil
		}
		recent, err := s.recentHashesTx(ctx, t, u.Login, p.History)
		if err != nil {
			return nil, err
		}
		for _, h := range append(recent, u.hash) {
			if passwordMatches(h, next) {
				return bill.Errorf(bill.EInvalid, "新密码不能与最近 %d 次用过的密码相同。", p.History), nil
			}
		}
		hash, err := hashPassword(next)
		if err != nil {
			return nil, err
		}
		now, err := s.setPasswordTx(ctx, t, u.Login, hash, false, "password.change")
		if err != nil {
			return nil, err
		}
		u.hash, u.MustChange, u.ChangedAt = hash, false, time.UnixMilli(now).UTC()
		u.User.MustChange, u.User.ChangedAt = false, u.ChangedAt
		if out, err = s.openSessionTx(ctx, t, p, u, p.nextStage(u, true, s.now())); err != nil {
			return nil, err
		}
		return nil, t.audit(ctx, "password.change", u.Login, map[string]string{"session": out.ID})
	})
	return out, err
}

// recentHashesTx are the user's last n password hashes.
func (s *Store) recentHashesTx(ctx context.Context, t *dbtx, login string, n int) ([]string, error) {
	rows, err := t.query(ctx, "SELECT hash FROM password_history WHERE login = ? ORDER BY changed_at DESC", login)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() && len(out) < n {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// setPasswordTx stores a new password hash (one-time when mustChange),
// keeps it in the history, gives the user row a new master-data version
// (stations pull it) and ends the user's sessions. It returns the time.
func (s *Store) setPasswordTx(ctx context.Context, t *dbtx, login, hash string, mustChange bool, why string) (int64, error) {
	v, err := t.nextMasterVersion(ctx)
	if err != nil {
		return 0, err
	}
	now, must := s.millis(), 0
	if mustChange {
		must = 1
	}
	if _, err := t.exec(ctx, "UPDATE users SET password_hash = ?, must_change = ?, password_changed_at = ?, version = ? WHERE login = ?",
		hash, must, now, v, login); err != nil {
		return 0, err
	}
	if _, err := t.exec(ctx, "INSERT INTO password_history (login, hash, changed_at) VALUES (?,?,?)", login, hash, now); err != nil {
		return 0, err
	}
	return now, s.endSessionsTx(ctx, t, login, why)
}

// sessionStep runs one step of a session (a password change, a code)
// inside one transaction. The step answers a refusal (a wrong code, a
// weak password) apart from a fault: the refusal is returned after the
// transaction has committed what it recorded — failure counts, audit.
func (s *Store) sessionStep(ctx context.Context, token string,
	step func(t *dbtx, p Policy, sess *Session, u *userRow) (refusal error, err error)) error {
	p, err := s.Policy(ctx)
	if err != nil {
		return err
	}
	var refusal error
	err = s.tx(ctx, func(t *dbtx) error {
		sess, u, err := s.sessionTx(ctx, t, p, token)
		if err != nil {
			refusal = err
			return nil
		}
		refusal, err = step(t, p, sess, u)
		return err
	})
	if err != nil {
		return err
	}
	return refusal
}

// refuseAndCount counts a wrong old password or code towards the lockout;
// the lock, when it comes, ends the user's sessions.
func (s *Store) refuseAndCount(ctx context.Context, t *dbtx, p Policy, u *userRow, refusal error, action string) (error, error) {
	until, err := s.failTx(ctx, t, p, strings.ToLower(u.Login))
	if err != nil {
		return nil, err
	}
	if !until.IsZero() {
		refusal = lockedError(until)
		if err := s.endSessionsTx(ctx, t, u.Login, "locked"); err != nil {
			return nil, err
		}
	}
	return refusal, t.audit(ctx, action, u.Login, nil)
}
