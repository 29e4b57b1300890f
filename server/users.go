package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/ebill/ebill/bill"
)

// User is a person who signs in to ebill.
type User struct {
	Login       string    `json:"login"`
	Name        string    `json:"name"`
	Roles       []string  `json:"roles"`
	Disabled    bool      `json:"disabled"`
	MustChange  bool      `json:"mustChange,omitempty"` // signs in only to change the password
	MFA         bool      `json:"mfa,omitempty"`        // a second factor is set up
	LastLoginAt time.Time `json:"lastLoginAt,omitzero"` // the last sign-in
	ChangedAt   time.Time `json:"passwordChangedAt,omitzero"`
}

// hashPassword is the one place passwords are hashed (a seam for an SM3
// verifier, security.md §9).
func hashPassword(p string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(p), PasswordCost)
	return string(h), err
}

// PasswordCost is bcrypt's work factor: about 0.25 s a guess on a server
// core, made for offline guessing of the hashes a station holds (each desk
// account's), where 10 — bcrypt's default — let 50 guesses find 7 of 8
// passwords (issue 18). Hashes of a lower cost are made again at the next
// sign-in.
const PasswordCost = 12

// weakHash reports whether a hash was made at a lower cost than now.
func weakHash(hash string) bool {
	c, err := bcrypt.Cost([]byte(hash))
	return err == nil && c < PasswordCost
}

// SetUserPoints sets the billing points where a desk account may sign in
// ("" or none: any); stations receive only their point's accounts.
func (s *Store) SetUserPoints(ctx context.Context, login string, points []string) error {
	var list []string
	for _, p := range points {
		if p = strings.TrimSpace(p); p != "" {
			if _, err := s.Point(ctx, p); err != nil {
				return err
			}
			list = append(list, p)
		}
	}
	return s.changeUser(ctx, PermUserManage, login, "设置开票点", func(t *dbtx, u *userRow) error {
		if err := s.bumpUserTx(ctx, t, u.Login, "points = ?", strings.Join(list, ",")); err != nil {
			return err
		}
		return t.audit(ctx, "user.points", u.Login, map[string]any{"points": list})
	})
}

func passwordMatches(hash, p string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(p)) == nil
}

// dummyHash is compared against when a login does not exist, so that an
// unknown login costs the same work as a wrong password (IP-7).
var dummyHash, _ = hashPassword("ebill-no-such-user-Zq8!")

func checkLogin(login string) (string, error) {
	login = strings.TrimSpace(login)
	if login == "" || utf8.RuneCountInString(login) > 50 || strings.ContainsAny(login, " \t,") {
		return "", bill.Errorf(bill.EInvalid, "登录名不能为空、不能含空格或逗号、不超过50个字符。")
	}
	return login, nil
}

// AddUser creates an account (system administrator). The password is a
// one-time password: it must be changed at the first sign-in. Roles, when
// given, are granted too, which takes the security administrator's
// permission (or the system's, at installation and in tests).
func (s *Store) AddUser(ctx context.Context, u User, password string) error {
	if _, err := s.authorize(ctx, PermUserManage); err != nil {
		return err
	}
	var err error
	if u.Login, err = checkLogin(u.Login); err != nil {
		return err
	}
	if u.Name = strings.TrimSpace(u.Name); u.Name == "" || utf8.RuneCountInString(u.Name) > 60 {
		return bill.Errorf(bill.EInvalid, "请填写姓名（不超过60个字符）。")
	}
	if len(u.Roles) > 0 {
		if _, err := s.authorize(ctx, PermRoleGrant); err != nil {
			return err
		}
		if err := checkRoles(u.Roles); err != nil {
			return err
		}
	}
	p, err := s.Policy(ctx)
	if err != nil {
		return err
	}
	if err := p.CheckPassword(u.Login, password); err != nil {
		return err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(t *dbtx) error {
		v, err := t.nextMasterVersion(ctx)
		if err != nil {
			return err
		}
		now := s.millis()
		if _, err := t.exec(ctx, `INSERT INTO users (login, name, password_hash, roles, version, created_at, password_changed_at, must_change)
			VALUES (?,?,?,?,?,?,?,1)`, u.Login, u.Name, hash, strings.Join(u.Roles, ","), v, now, now); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "INSERT INTO password_history (login, hash, changed_at) VALUES (?,?,?)", u.Login, hash, now); err != nil {
			return err
		}
		return t.audit(ctx, "user.add", u.Login, map[string]any{"name": u.Name, "roles": u.Roles})
	})
	if errors.Is(err, ErrConflict) {
		return bill.Errorf(bill.EConflict, "登录名 %s 已存在（登录名不区分大小写，停用的账号也保留其登录名）。", u.Login)
	}
	return err
}

// userRow is a user as the sign-in reads it.
type userRow struct {
	User
	hash       string
	totpSecret []byte
	totpStep   int64
}

const userCols = `SELECT login, name, roles, disabled, must_change, password_changed_at, last_login_at, password_hash,
	totp_secret, totp_last_step FROM users`

func scanUser(r interface{ Scan(...any) error }) (*userRow, error) {
	var u userRow
	var roles string
	var disabled, mustChange int
	var changed, last int64
	if err := r.Scan(&u.Login, &u.Name, &roles, &disabled, &mustChange, &changed, &last, &u.hash, &u.totpSecret, &u.totpStep); err != nil {
		return nil, err
	}
	if roles != "" {
		u.Roles = strings.Split(roles, ",")
	}
	u.Disabled, u.MustChange, u.MFA = disabled != 0, mustChange != 0, len(u.totpSecret) > 0
	if changed > 0 {
		u.ChangedAt = time.UnixMilli(changed).UTC()
	}
	if last > 0 {
		u.LastLoginAt = time.UnixMilli(last).UTC()
	}
	return &u, nil
}

// userTx reads a user by login, whatever its case; ENotFound when none.
func (s *Store) userTx(ctx context.Context, t *dbtx, login string, lock bool) (*userRow, error) {
	q := userCols + " WHERE lower(login) = lower(?)"
	if lock {
		q += s.forUpdate()
	}
	u, err := scanUser(t.queryRow(ctx, q, strings.TrimSpace(login)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "没有登录名为 %s 的用户。", login)
	}
	return u, err
}

// Users lists every user.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.query(ctx, userCols+" ORDER BY login")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u.User)
	}
	return out, rows.Err()
}

// notSelf refuses, and audits, an administrator acting on their own
// account where the separation of duties forbids it.
func (s *Store) notSelf(ctx context.Context, actor *User, login, what string) error {
	if actor == nil || !strings.EqualFold(actor.Login, strings.TrimSpace(login)) {
		return nil
	}
	if err := s.tx(ctx, func(t *dbtx) error {
		return t.audit(ctx, "denied", "self", map[string]any{"login": actor.Login, "roles": actor.Roles, "what": what})
	}); err != nil {
		return err
	}
	return bill.Errorf(bill.EForbidden, "不能%s自己的账号；请由另一位管理员办理。", what)
}

// OneTimePassword makes a password that meets any policy: 16 characters
// of all four classes, from characters that cannot be mistaken for one
// another when read aloud.
func OneTimePassword() string {
	const upper, lower, digits, other = "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789", "#%+=@"
	sets := []string{upper, lower, digits, other}
	b := make([]byte, 16)
	r := make([]byte, 16)
	rand.Read(r)
	for i := range b {
		set := sets[i%4]
		b[i] = set[int(r[i])%len(set)]
	}
	return string(b)
}

// changeUser runs an administrator's change to another user's account:
// the permission, never on their own account, the user row locked.
func (s *Store) changeUser(ctx context.Context, perm, login, what string, change func(t *dbtx, u *userRow) error) error {
	actor, err := s.authorize(ctx, perm)
	if err != nil {
		return err
	}
	if err := s.notSelf(ctx, actor, login, what); err != nil {
		return err
	}
	return s.tx(ctx, func(t *dbtx) error {
		u, err := s.userTx(ctx, t, login, true)
		if err != nil {
			return err
		}
		return change(t, u)
	})
}

// ResetPassword gives another user a one-time password (system
// administrator), ends their sessions and lockout; the password is shown
// once, to be handed over, and must be changed at the next sign-in.
func (s *Store) ResetPassword(ctx context.Context, login string) (string, error) {
	password := OneTimePassword()
	hash, err := hashPassword(password)
	if err != nil {
		return "", err
	}
	err = s.changeUser(ctx, PermUserManage, login, "重置", func(t *dbtx, u *userRow) error {
		if _, err := s.setPasswordTx(ctx, t, u.Login, hash, true, "password.reset"); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "DELETE FROM login_failures WHERE login = ?", strings.ToLower(u.Login)); err != nil {
			return err
		}
		return t.audit(ctx, "password.reset", u.Login, nil)
	})
	return password, err
}

// SetRoles grants a user exactly these roles (security administrator,
// never to themselves) and ends the user's sessions.
func (s *Store) SetRoles(ctx context.Context, login string, roles []string) error {
	return s.changeUser(ctx, PermRoleGrant, login, "修改", func(t *dbtx, u *userRow) error {
		if err := checkRoles(roles); err != nil {
			return err
		}
		if err := s.bumpUserTx(ctx, t, u.Login, "roles = ?", strings.Join(roles, ",")); err != nil {
			return err
		}
		if err := s.endSessionsTx(ctx, t, u.Login, "role.change"); err != nil {
			return err
		}
		return t.audit(ctx, "role.set", u.Login, map[string]any{"before": u.Roles, "after": roles})
	})
}

// bumpUserTx changes a user row and gives it a new master-data version,
// so that stations pull the change.
func (s *Store) bumpUserTx(ctx context.Context, t *dbtx, login, set string, args ...any) error {
	v, err := t.nextMasterVersion(ctx)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, "UPDATE users SET "+set+", version = ? WHERE login = ?", append(args, v, login)...)
	return err
}

// SetDisabled disables or enables an account (system administrator, not
// their own); disabling ends its sessions.
func (s *Store) SetDisabled(ctx context.Context, login string, disabled bool) error {
	return s.changeUser(ctx, PermUserManage, login, "停用或启用", func(t *dbtx, u *userRow) error {
		flag, action := 0, "user.enable"
		if disabled {
			flag, action = 1, "user.disable"
		}
		// Enabled again, the account starts a new 90 days before it counts
		// as dormant.
		if err := s.bumpUserTx(ctx, t, u.Login, "disabled = ?, last_login_at = ?", flag, s.millis()); err != nil {
			return err
		}
		if disabled {
			if err := s.endSessionsTx(ctx, t, u.Login, action); err != nil {
				return err
			}
		}
		return t.audit(ctx, action, u.Login, nil)
	})
}

// Unlock ends a lockout (security administrator).
func (s *Store) Unlock(ctx context.Context, login string) error {
	if _, err := s.authorize(ctx, PermUnlock); err != nil {
		return err
	}
	return s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, "DELETE FROM login_failures WHERE login = ?", strings.ToLower(strings.TrimSpace(login))); err != nil {
			return err
		}
		return t.audit(ctx, "account.unlock", login, nil)
	})
}

// ResetMFA removes another user's second factor and backup codes
// (security administrator, not their own); they set a new one up at the
// next sign-in.
func (s *Store) ResetMFA(ctx context.Context, login string) error {
	return s.changeUser(ctx, PermMFAReset, login, "重置", func(t *dbtx, u *userRow) error {
		if _, err := t.exec(ctx, "UPDATE users SET totp_secret = NULL, totp_last_step = 0 WHERE login = ?", u.Login); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "DELETE FROM backup_codes WHERE login = ?", u.Login); err != nil {
			return err
		}
		if err := s.endSessionsTx(ctx, t, u.Login, "mfa.reset"); err != nil {
			return err
		}
		return t.audit(ctx, "mfa.reset", u.Login, nil)
	})
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
