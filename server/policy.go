package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ebill/ebill/bill"
)

// Policy holds the figures of the security policy (security.md §1–2):
// password rules, lockout and session limits, and who must use a second
// factor. The security administrator sets them; none may go below the
// floor MLPS level 3 assessors expect (Check).
type Policy struct {
	MinLength   int `json:"minLength"`   // characters, ≥ 8
	MinClasses  int `json:"minClasses"`  // of upper, lower, digit, other: ≥ 3
	History     int `json:"history"`     // last passwords that may not come back, ≥ 5
	MaxAgeDays  int `json:"maxAgeDays"`  // password age, 1–90
	MaxFailures int `json:"maxFailures"` // failures in a row that lock, 1–5
	// FailureWindowMinutes: failures further apart than this start the
	// count again (15).
	FailureWindowMinutes int      `json:"failureWindowMinutes"`
	LockMinutes          int      `json:"lockMinutes"`  // ≥ 30
	IdleMinutes          int      `json:"idleMinutes"`  // 1–15
	SessionHours         int      `json:"sessionHours"` // 1–8
	MFARoles             []string `json:"mfaRoles"`     // always the administrator roles, bill administrators and checkers
}

// MFARequiredRoles must use a second factor whatever the policy says.
var MFARequiredRoles = []string{RoleSysAdmin, RoleSecAdmin, RoleAuditor, RoleBillAdmin, RoleChecker}

// DefaultPolicy is the policy of a new installation.
var DefaultPolicy = Policy{MinLength: 8, MinClasses: 3, History: 5, MaxAgeDays: 90, MaxFailures: 5, FailureWindowMinutes: 15,
	LockMinutes: 30, IdleMinutes: 15, SessionHours: 8, MFARoles: MFARequiredRoles}

// Check refuses figures below the floors.
func (p Policy) Check() error {
	bad := func(what string, floor string) error {
		return bill.Errorf(bill.EInvalid, "%s不符合等保三级要求：应%s。", what, floor)
	}
	switch {
	case p.MinLength < 8 || p.MinLength > 64:
		return bad("密码最短长度", "在 8 至 64 之间")
	case p.MinClasses < 3 || p.MinClasses > 4:
		return bad("密码字符类别数", "为 3 或 4")
	case p.History < 5 || p.History > 24:
		return bad("不得重复使用的历史密码个数", "在 5 至 24 之间")
	case p.MaxAgeDays < 1 || p.MaxAgeDays > 90:
		return bad("密码有效期", "在 1 至 90 天之间")
	case p.MaxFailures < 1 || p.MaxFailures > 5:
		return bad("连续失败锁定次数", "在 1 至 5 次之间")
	case p.FailureWindowMinutes < 1 || p.FailureWindowMinutes > 1440:
		return bad("失败计数周期", "在 1 至 1440 分钟之间")
	case p.LockMinutes < 30 || p.LockMinutes > 1440:
		return bad("锁定时长", "在 30 至 1440 分钟之间")
	case p.IdleMinutes < 1 || p.IdleMinutes > 15:
		return bad("空闲超时", "在 1 至 15 分钟之间")
	case p.SessionHours < 1 || p.SessionHours > 8:
		return bad("会话最长时间", "在 1 至 8 小时之间")
	}
	for _, r := range MFARequiredRoles {
		if !slices.Contains(p.MFARoles, r) {
			return bad("双因素认证范围", "至少包括三员、票据管理员和票据审核")
		}
	}
	for _, r := range p.MFARoles {
		if _, ok := RolePermissions[r]; !ok {
			return bill.Errorf(bill.EInvalid, "未知角色 %q。", r)
		}
	}
	return nil
}

// Idle, Lifetime, Lock and Window are the policy's durations.
func (p Policy) Idle() time.Duration     { return time.Duration(p.IdleMinutes) * time.Minute }
func (p Policy) Lifetime() time.Duration { return time.Duration(p.SessionHours) * time.Hour }
func (p Policy) Lock() time.Duration     { return time.Duration(p.LockMinutes) * time.Minute }
func (p Policy) Window() time.Duration   { return time.Duration(p.FailureWindowMinutes) * time.Minute }
func (p Policy) MaxAge() time.Duration   { return time.Duration(p.MaxAgeDays) * 24 * time.Hour }

// NeedsMFA reports whether a user with these roles must use a second factor.
func (p Policy) NeedsMFA(roles []string) bool {
	for _, r := range roles {
		if slices.Contains(p.MFARoles, r) || slices.Contains(MFARequiredRoles, r) {
			return true
		}
	}
	return false
}

// CheckPassword applies the complexity rules to a new password for login:
// length, character classes, not containing the login, not a common
// password. The message says what to change, never echoing the password.
func (p Policy) CheckPassword(login, password string) error {
	if utf8.RuneCountInString(password) < p.MinLength {
		return bill.Errorf(bill.EInvalid, "密码至少 %d 位。", p.MinLength)
	}
	if utf8.RuneCountInString(password) > 128 {
		return bill.Errorf(bill.EInvalid, "密码不能超过 128 位。")
	}
	if !utf8.ValidString(password) || strings.ContainsFunc(password, unicode.IsControl) {
		return bill.Errorf(bill.EInvalid, "密码含有无法识别的字符或控制字符。")
	}
	var upper, lower, digit, other bool
	for _, r := range password {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, has := range []bool{upper, lower, digit, other} {
		if has {
			classes++
		}
	}
	if classes < p.MinClasses {
		return bill.Errorf(bill.EInvalid, "密码须包含大写字母、小写字母、数字、其他符号中的至少 %d 类。", p.MinClasses)
	}
	if l := strings.ToLower(strings.TrimSpace(login)); l != "" && strings.Contains(strings.ToLower(password), l) {
		return bill.Errorf(bill.EInvalid, "密码不能包含登录名。")
	}
	if IsCommonPassword(password) {
		return bill.Errorf(bill.EInvalid, "这是常见的弱密码，容易被猜中，请换一个。")
	}
	return nil
}

// Policy returns the security policy in force.
func (s *Store) Policy(ctx context.Context) (Policy, error) { return policyOf(ctx, s) }

// policyOf reads the policy through the store or a transaction.
func policyOf(ctx context.Context, q querier) (Policy, error) {
	var body string
	err := q.queryRow(ctx, "SELECT body FROM security_policy WHERE id = 1").Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultPolicy, nil
	}
	if err != nil {
		return Policy{}, err
	}
	p := DefaultPolicy
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return Policy{}, fmt.Errorf("security policy: %w", err)
	}
	return p, nil
}

// SetPolicy changes the security policy (security administrator).
func (s *Store) SetPolicy(ctx context.Context, p Policy) error {
	if _, err := s.authorize(ctx, PermPolicy); err != nil {
		return err
	}
	if err := p.Check(); err != nil {
		return err
	}
	body, _ := json.Marshal(p)
	return s.tx(ctx, func(t *dbtx) error {
		old, err := policyOf(ctx, t)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO security_policy (id, body) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET body = excluded.body`, string(body)); err != nil {
			return err
		}
		// Stations learn from each user's row who needs a second factor
		// (and so may not sign in at the desk): a change reaches them all.
		if !slices.Equal(old.MFARoles, p.MFARoles) {
			v, err := t.nextMasterVersion(ctx)
			if err != nil {
				return err
			}
			if _, err := t.exec(ctx, "UPDATE users SET version = ?", v); err != nil {
				return err
			}
		}
		return t.audit(ctx, "policy.set", "security_policy", p)
	})
}
