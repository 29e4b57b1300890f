package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/ebill/ebill/bill"
)

// Roles (domain.md §1). The three administrator roles of MLPS level 3
// (等保三级) are separated: no user holds two of them.
const (
	RoleCashier    = "cashier"    // 收费员
	RoleExamNurse  = "exam_nurse" // 体检护士
	RoleBillAdmin  = "bill_admin" // 票据管理员
	RoleFinance    = "finance"    // 财务
	RoleSysAdmin   = "sysadmin"   // 系统管理员
	RoleSecAdmin   = "secadmin"   // 安全管理员
	RoleAuditor    = "auditor"    // 审计员
	SessionTTL     = 12 * time.Hour
	maxFailures    = 5
	lockoutPeriod  = 15 * time.Minute
	minPasswordLen = 8
)

// RolePermissions says what each role may do.
var RolePermissions = map[string][]string{
	RoleCashier:   {"bill.issue", "bill.red", "paper.print", "bill.query", "closing.own"},
	RoleExamNurse: {"bill.issue", "paper.print", "bill.query", "closing.own"},
	RoleBillAdmin: {"stock.receive", "point.manage", "segment.allocate", "bill.query", "writeoff.prepare"},
	RoleFinance:   {"bill.query", "report.view", "closing.all"},
	RoleSysAdmin:  {"system.configure", "backup.run"},
	RoleSecAdmin:  {"user.manage", "role.assign"},
	RoleAuditor:   {"audit.read"},
}

// RoleNames are the roles' Chinese names.
var RoleNames = map[string]string{RoleCashier: "收费员", RoleExamNurse: "体检护士", RoleBillAdmin: "票据管理员",
	RoleFinance: "财务", RoleSysAdmin: "系统管理员", RoleSecAdmin: "安全管理员", RoleAuditor: "审计员"}

var adminRoles = []string{RoleSysAdmin, RoleSecAdmin, RoleAuditor}

// User is a person who signs in to ebill.
type User struct {
	Login    string   `json:"login"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	Disabled bool     `json:"disabled"`
}

// Can reports whether the user's roles grant a permission.
func (u *User) Can(permission string) bool {
	for _, r := range u.Roles {
		if slices.Contains(RolePermissions[r], permission) {
			return true
		}
	}
	return false
}

func checkRoles(roles []string) error {
	if len(roles) == 0 {
		return bill.Errorf(bill.EInvalid, "请至少指定一个角色。")
	}
	admins := 0
	for _, r := range roles {
		if _, ok := RolePermissions[r]; !ok {
			return bill.Errorf(bill.EInvalid, "未知角色 %q，可选：cashier 收费员、exam_nurse 体检护士、bill_admin 票据管理员、finance 财务、sysadmin 系统管理员、secadmin 安全管理员、auditor 审计员", r)
		}
		if slices.Contains(adminRoles, r) {
			admins++
		}
	}
	if admins > 0 && len(roles) > 1 {
		return bill.Errorf(bill.EInvalid, "系统管理员、安全管理员、审计员三个角色须分别由不同的人担任，且不能兼任其他角色（三员分立）。")
	}
	return nil
}

// AddUser creates a user with a bcrypt-hashed password.
func (s *Store) AddUser(ctx context.Context, u User, password string) error {
	u.Login = strings.TrimSpace(u.Login)
	if u.Login == "" || len(u.Login) > 50 || strings.ContainsAny(u.Login, " \t,") {
		return bill.Errorf(bill.EInvalid, "登录名不能为空、不能含空格或逗号、不超过50个字符。")
	}
	if u.Name == "" || utf8.RuneCountInString(u.Name) > 60 {
		return bill.Errorf(bill.EInvalid, "请填写姓名（不超过60个字符）。")
	}
	if err := checkRoles(u.Roles); err != nil {
		return err
	}
	if utf8.RuneCountInString(password) < minPasswordLen {
		return bill.Errorf(bill.EInvalid, "密码至少 %d 位。", minPasswordLen)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(t *dbtx) error {
		v, err := t.nextMasterVersion(ctx)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO users (login, name, password_hash, roles, version, created_at)
			VALUES (?,?,?,?,?,?)`, u.Login, u.Name, string(hash), strings.Join(u.Roles, ","), v, s.millis()); err != nil {
			return err
		}
		return t.audit(ctx, "user.add", u.Login, map[string]any{"name": u.Name, "roles": u.Roles})
	})
	if errors.Is(err, ErrConflict) {
		return bill.Errorf(bill.EConflict, "登录名 %s 已存在。", u.Login)
	}
	return err
}

// Session is a signed-in user's token, valid until ExpiresAt.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
	User      User      `json:"user"`
}

// Login checks a password and opens a session. After repeated failures the
// account is locked for a while; every attempt is audited.
func (s *Store) Login(ctx context.Context, login, password string) (*Session, error) {
	var sess *Session
	var failure error
	err := s.tx(ctx, func(t *dbtx) error {
		failure = nil
		var hash, roles string
		var disabled, failed int
		var locked int64
		var u User
		err := t.queryRow(ctx, "SELECT login, name, password_hash, roles, disabled, failed_logins, locked_until FROM users WHERE login = ?"+s.forUpdate(),
			login).Scan(&u.Login, &u.Name, &hash, &roles, &disabled, &failed, &locked)
		deny := bill.Errorf(bill.EUnauthorized, "登录名或密码不正确。")
		switch {
		case errors.Is(err, sql.ErrNoRows):
			failure = deny
			return t.audit(ctx, "login.fail", login, map[string]string{"reason": "unknown user"})
		case err != nil:
			return err
		case disabled != 0:
			failure = bill.Errorf(bill.EUnauthorized, "账号已停用，请联系安全管理员。")
			return t.audit(ctx, "login.fail", login, map[string]string{"reason": "disabled"})
		case locked > s.millis():
			failure = bill.Errorf(bill.EUnauthorized, "密码错误次数过多，账号已锁定至 %s，请稍后再试或联系安全管理员。",
				time.UnixMilli(locked).In(bill.Beijing).Format("15:04"))
			return t.audit(ctx, "login.fail", login, map[string]string{"reason": "locked"})
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
			failed++
			lockUntil := int64(0)
			if failed >= maxFailures {
				lockUntil, failed = s.now().Add(lockoutPeriod).UnixMilli(), 0
			}
			if _, err := t.exec(ctx, "UPDATE users SET failed_logins = ?, locked_until = ? WHERE login = ?", failed, lockUntil, login); err != nil {
				return err
			}
			failure = deny
			return t.audit(ctx, "login.fail", login, map[string]any{"reason": "password", "locked": lockUntil > 0})
		}
		token := make([]byte, 32)
		rand.Read(token)
		u.Roles = strings.Split(roles, ",")
		sess = &Session{Token: base64.RawURLEncoding.EncodeToString(token), ExpiresAt: s.now().Add(SessionTTL).UTC(), User: u}
		if _, err := t.exec(ctx, "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE login = ?", login); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "INSERT INTO sessions (token_hash, login, expires_at, created_at) VALUES (?,?,?,?)",
			tokenHash(sess.Token), login, sess.ExpiresAt.UnixMilli(), s.millis()); err != nil {
			return err
		}
		return t.audit(ctx, "login", login, map[string]any{"roles": u.Roles})
	})
	if err != nil {
		return nil, err
	}
	if failure != nil {
		return nil, failure
	}
	return sess, nil
}

// SessionUser returns the user of a valid session token.
func (s *Store) SessionUser(ctx context.Context, token string) (*User, error) {
	var u User
	var roles string
	var disabled int
	err := s.queryRow(ctx, `SELECT u.login, u.name, u.roles, u.disabled FROM sessions se JOIN users u ON u.login = se.login
		WHERE se.token_hash = ? AND se.expires_at > ?`, tokenHash(token), s.millis()).Scan(&u.Login, &u.Name, &roles, &disabled)
	if err != nil || disabled != 0 {
		return nil, bill.Errorf(bill.EUnauthorized, "登录已过期，请重新登录。")
	}
	u.Roles = strings.Split(roles, ",")
	return &u, nil
}

// ChangePassword sets a new password for the user of a session, who must
// give the old one. The new hash reaches the stations with the next pull
// (the user row gets a new master-data version), for offline sign-in.
func (s *Store) ChangePassword(ctx context.Context, token, old, next string) error {
	u, err := s.SessionUser(ctx, token)
	if err != nil {
		return err
	}
	if utf8.RuneCountInString(next) < minPasswordLen {
		return bill.Errorf(bill.EInvalid, "新密码至少 %d 位。", minPasswordLen)
	}
	if next == old {
		return bill.Errorf(bill.EInvalid, "新密码不能与原密码相同。")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(next), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	var failure error
	err = s.tx(WithActor(ctx, Actor{Who: "user:" + u.Login}), func(t *dbtx) error {
		failure = nil
		var current string
		if err := t.queryRow(ctx, "SELECT password_hash FROM users WHERE login = ?"+s.forUpdate(), u.Login).Scan(&current); err != nil {
			return err
		}
		if bcrypt.CompareHashAndPassword([]byte(current), []byte(old)) != nil {
			failure = bill.Errorf(bill.EUnauthorized, "原密码不正确。")
			return t.audit(ctx, "password.fail", u.Login, nil)
		}
		v, err := t.nextMasterVersion(ctx)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, "UPDATE users SET password_hash = ?, version = ? WHERE login = ?", string(hash), v, u.Login); err != nil {
			return err
		}
		return t.audit(ctx, "password.change", u.Login, nil)
	})
	if err != nil {
		return err
	}
	return failure
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Users lists every user.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.query(ctx, "SELECT login, name, roles, disabled FROM users ORDER BY login")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var roles string
		var disabled int
		if err := rows.Scan(&u.Login, &u.Name, &roles, &disabled); err != nil {
			return nil, err
		}
		u.Roles, u.Disabled = strings.Split(roles, ","), disabled != 0
		out = append(out, u)
	}
	return out, rows.Err()
}
