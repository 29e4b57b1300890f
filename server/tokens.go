package server

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
)

// API tokens are how scripts and scheduled jobs (backups, the demo, tests)
// act: named, revocable, expiring, issued by the security administrator for
// a person or a service account, and limited to that account's roles. A
// token is shown once; the store keeps its hash.

// APIToken is an issued token as lists show it (never the token itself).
type APIToken struct {
	ID        string    `json:"id"`
	Login     string    `json:"login"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expiresAt"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	Revoked   bool      `json:"revoked"`
}

// TokenPrefix starts every API token, so that a leaked one is recognisable
// (and secret scanners can look for it).
const TokenPrefix = "ebt_"

// MaxTokenLife is the longest an API token may live.
const MaxTokenLife = 366 * 24 * time.Hour

// IssueAPIToken issues a token acting as login (security administrator).
func (s *Store) IssueAPIToken(ctx context.Context, login, name string, life time.Duration) (string, *APIToken, error) {
	actor, err := s.authorize(ctx, PermTokenIssue)
	if err != nil {
		return "", nil, err
	}
	if name = strings.TrimSpace(name); name == "" || utf8.RuneCountInString(name) > 60 {
		return "", nil, bill.Errorf(bill.EInvalid, "请为令牌起一个名称（不超过60个字符），例如“每日备份”。")
	}
	if life < time.Hour || life > MaxTokenLife {
		return "", nil, bill.Errorf(bill.EInvalid, "令牌有效期应在 1 小时至 366 天之间。")
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	by := actorOf(ctx).Who
	if actor != nil {
		by = actor.Login
	}
	var out *APIToken
	err = s.tx(ctx, func(t *dbtx) error {
		u, err := s.userTx(ctx, t, login, false)
		if err != nil {
			return err
		}
		if u.Disabled {
			return bill.Errorf(bill.EInvalid, "账号 %s 已停用，不能为其签发令牌。", u.Login)
		}
		now := s.now().UTC()
		out = &APIToken{ID: uuid.Must(uuid.NewV7()).String(), Login: u.Login, Name: name, ExpiresAt: now.Add(life), CreatedBy: by, CreatedAt: now}
		if _, err := t.exec(ctx, `INSERT INTO api_tokens (id, token_hash, login, name, expires_at, created_by, created_at) VALUES (?,?,?,?,?,?,?)`,
			out.ID, tokenHash(token), out.Login, out.Name, out.ExpiresAt.UnixMilli(), out.CreatedBy, now.UnixMilli()); err != nil {
			return err
		}
		return t.audit(ctx, "token.issue", out.Login, map[string]any{"id": out.ID, "name": name, "expiresAt": out.ExpiresAt})
	})
	if err != nil {
		return "", nil, err
	}
	return token, out, nil
}

// RevokeAPIToken ends a token (security administrator).
func (s *Store) RevokeAPIToken(ctx context.Context, id string) error {
	if _, err := s.authorize(ctx, PermTokenIssue); err != nil {
		return err
	}
	return s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0", s.millis(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bill.Errorf(bill.ENotFound, "没有编号为 %s 的有效令牌。", id)
		}
		return t.audit(ctx, "token.revoke", id, nil)
	})
}

// APITokens lists the issued tokens (security administrator).
func (s *Store) APITokens(ctx context.Context) ([]APIToken, error) {
	if _, err := s.authorize(ctx, PermTokenIssue); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, "SELECT id, login, name, expires_at, created_by, created_at, revoked_at FROM api_tokens ORDER BY created_at")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var tk APIToken
		var exp, created, revoked int64
		if err := rows.Scan(&tk.ID, &tk.Login, &tk.Name, &exp, &tk.CreatedBy, &created, &revoked); err != nil {
			return nil, err
		}
		tk.ExpiresAt, tk.CreatedAt, tk.Revoked = time.UnixMilli(exp).UTC(), time.UnixMilli(created).UTC(), revoked != 0
		out = append(out, tk)
	}
	return out, rows.Err()
}

// TokenUser is the account an API token acts as, with its roles as they
// are now; an unknown, revoked or expired token, or a disabled account,
// is refused with one answer.
func (s *Store) TokenUser(ctx context.Context, token string) (*User, *APIToken, error) {
	deny := bill.Errorf(bill.EUnauthorized, "令牌无效、已过期或已撤销；请向安全管理员申请新的令牌。")
	if !strings.HasPrefix(token, TokenPrefix) {
		return nil, nil, deny
	}
	var tk APIToken
	var exp, created, revoked int64
	err := s.queryRow(ctx, "SELECT id, login, name, expires_at, created_by, created_at, revoked_at FROM api_tokens WHERE token_hash = ?",
		tokenHash(token)).Scan(&tk.ID, &tk.Login, &tk.Name, &exp, &tk.CreatedBy, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (revoked != 0 || exp <= s.millis())) {
		return nil, nil, deny
	}
	if err != nil {
		return nil, nil, err
	}
	tk.ExpiresAt, tk.CreatedAt = time.UnixMilli(exp).UTC(), time.UnixMilli(created).UTC()
	u, err := scanUser(s.queryRow(ctx, userCols+" WHERE login = ?", tk.Login))
	if err != nil || u.Disabled {
		return nil, nil, deny
	}
	// A token's use is the account's use: it keeps a service account from
	// being disabled as dormant.
	if err := s.tx(ctx, func(t *dbtx) error {
		_, err := t.exec(ctx, "UPDATE users SET last_login_at = ? WHERE login = ?", s.millis(), u.Login)
		return err
	}); err != nil {
		return nil, nil, err
	}
	return &u.User, &tk, nil
}

// InitialAdmin is an administrator made at installation, with a one-time
// password to be shown once.
type InitialAdmin struct {
	Login    string `json:"login"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

// Init makes the first system, security and audit administrators, each
// with a one-time password (changed, and a second factor set up, at the
// first sign-in). Only while no administrator exists: afterwards accounts
// are made by the administrators themselves.
func (s *Store) Init(ctx context.Context, sysadmin, secadmin, auditor string) ([]InitialAdmin, error) {
	var out []InitialAdmin
	err := s.tx(ctx, func(t *dbtx) error {
		var n int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE `+rolesLike(AdminRoles)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return bill.Errorf(bill.EConflict, "已有管理员账号，不能再次初始化；新账号请由系统管理员创建。")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ctx = WithActor(ctx, Actor{Who: actorOf(ctx).Who, From: actorOf(ctx).From, System: true})
	for _, a := range []InitialAdmin{{Login: sysadmin, Role: RoleSysAdmin}, {Login: secadmin, Role: RoleSecAdmin}, {Login: auditor, Role: RoleAuditor}} {
		a.Password = OneTimePassword()
		if err := s.AddUser(ctx, User{Login: a.Login, Name: RoleNames[a.Role], Roles: []string{a.Role}}, a.Password); err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}

// rolesLike is an SQL condition: the roles column holds any of roles.
func rolesLike(roles []string) string {
	var parts []string
	for _, r := range roles {
		parts = append(parts, "(','||roles||',') LIKE '%,"+r+",%'")
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}
