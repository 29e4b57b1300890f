package server

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/ebill/ebill/bill"
)

// The second factor (security.md IA-8): TOTP set up in a session, its
// codes each accepted once, and the backup codes.

// TOTP parameters (RFC 6238): 6 digits, 30-second steps, one step of skew.
const (
	totpPeriod = 30
	totpIssuer = "ebill 医疗电子票据"
	backupN    = 8
)

// BeginTOTP starts setting up a second factor in a session: a new secret,
// kept (sealed) with the session until ConfirmTOTP; asked again, it gives
// the same secret (a page shown twice shows one QR code). The otpauth://
// URL is what the authenticator app scans as a QR code.
func (s *Store) BeginTOTP(ctx context.Context, token string) (secret, url string, err error) {
	sess, err := s.Session(ctx, token)
	if err != nil {
		return "", "", err
	}
	if sess.Stage != StageEnroll && sess.Stage != StageFull {
		return "", "", StageError(sess.Stage)
	}
	if sess.User.MFA {
		return "", "", bill.Errorf(bill.EInvalid, "您已绑定动态验证码；更换手机请联系安全管理员重置后重新绑定。")
	}
	opts := totp.GenerateOpts{Issuer: totpIssuer, AccountName: sess.User.Login, Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	var pending []byte
	if err := s.queryRow(ctx, "SELECT pending_totp FROM sessions WHERE token_hash = ?", tokenHash(token)).Scan(&pending); err != nil {
		return "", "", err
	}
	if len(pending) > 0 {
		if plain, err := s.unsealSecret(pending, sess.User.Login); err == nil {
			if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(plain)); err == nil {
				opts.Secret = raw
				defer clear(raw)
			}
			clear(plain)
		}
	}
	key, err := totp.Generate(opts)
	if err != nil {
		return "", "", err
	}
	if opts.Secret == nil {
		sealed := s.sealSecret([]byte(key.Secret()), sess.User.Login)
		if err := s.tx(ctx, func(t *dbtx) error {
			_, err := t.exec(ctx, "UPDATE sessions SET pending_totp = ? WHERE token_hash = ?", sealed, tokenHash(token))
			return err
		}); err != nil {
			return "", "", err
		}
	}
	return key.Secret(), key.URL(), nil
}

// ConfirmTOTP finishes setting up a second factor with a code from the
// app: the secret is kept (sealed) and 8 backup codes are returned, to be
// shown once; they are stored as hashes.
func (s *Store) ConfirmTOTP(ctx context.Context, token, code string) ([]string, error) {
	var codes []string
	err := s.sessionStep(ctx, token, func(t *dbtx, p Policy, sess *Session, u *userRow) (error, error) {
		var sealed []byte
		if err := t.queryRow(ctx, "SELECT pending_totp FROM sessions WHERE token_hash = ?", tokenHash(token)).Scan(&sealed); err != nil {
			return nil, err
		}
		if len(sealed) == 0 {
			return bill.Errorf(bill.EInvalid, "请先开始绑定动态验证码。"), nil
		}
		secret, err := s.unsealSecret(sealed, u.Login)
		if err != nil {
			return nil, err
		}
		defer clear(secret)
		step, ok := validTOTP(string(secret), code, s.now(), 0)
		if !ok {
			return bill.Errorf(bill.EInvalid, "验证码不正确；请确认手机时间准确，输入验证器当前显示的 6 位数字。"),
				t.audit(ctx, "mfa.enroll.fail", u.Login, nil)
		}
		if _, err := t.exec(ctx, "UPDATE users SET totp_secret = ?, totp_last_step = ? WHERE login = ?", sealed, step, u.Login); err != nil {
			return nil, err
		}
		if codes, err = s.newBackupCodesTx(ctx, t, u.Login); err != nil {
			return nil, err
		}
		u.totpSecret, u.MFA = sealed, true
		stage := p.nextStage(u, true, s.now())
		if _, err := t.exec(ctx, "UPDATE sessions SET pending_totp = NULL, stage = ? WHERE token_hash = ?", stage, tokenHash(token)); err != nil {
			return nil, err
		}
		return nil, t.audit(ctx, "mfa.enroll", u.Login, map[string]string{"session": sess.ID})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// backupCode is a one-time code: 10 characters in two groups.
func backupCode() string {
	const alphabet = "23456789abcdefghjkmnpqrstuvwxyz"
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:5]) + "-" + string(b[5:])
}

// validTOTP checks a code against a secret at now, ±1 step; it returns
// the step the code belongs to, which must be after lastStep (a code is
// accepted once).
func validTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false
	}
	step := now.Unix() / totpPeriod
	for _, d := range []int64{0, -1, 1} {
		at := time.Unix((step+d)*totpPeriod, 0)
		want, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtleEqual(want, code) && step+d > lastStep {
			return step + d, true
		}
	}
	return 0, false
}

// VerifyMFA completes a sign-in with the second factor: a code from the
// app (each accepted once) or a backup code (each usable once). Failures
// count towards the lockout like wrong passwords.
func (s *Store) VerifyMFA(ctx context.Context, token, code string) (*Session, error) {
	var out *Session
	err := s.sessionStep(ctx, token, func(t *dbtx, p Policy, sess *Session, u *userRow) (error, error) {
		if sess.Stage != StageMFA {
			out = sess
			return nil, nil
		}
		secret, err := s.unsealSecret(u.totpSecret, u.Login)
		if err != nil {
			return nil, err
		}
		defer clear(secret)
		how := "totp"
		step, ok := validTOTP(string(secret), code, s.now(), u.totpStep)
		if ok {
			if _, err := t.exec(ctx, "UPDATE users SET totp_last_step = ? WHERE login = ?", step, u.Login); err != nil {
				return nil, err
			}
		} else if ok, err = s.useBackupCodeTx(ctx, t, u.Login, code); err != nil {
			return nil, err
		} else if ok {
			how = "backup"
		}
		if !ok {
			return s.refuseAndCount(ctx, t, p, u,
				bill.Errorf(bill.EUnauthorized, "动态验证码不正确或已使用过；请输入验证器当前显示的 6 位数字，或一个备用码。"), "mfa.fail")
		}
		sess.Stage = p.nextStage(u, true, s.now())
		if _, err := t.exec(ctx, "UPDATE sessions SET stage = ?, last_seen_at = ? WHERE token_hash = ?", sess.Stage, s.millis(), tokenHash(token)); err != nil {
			return nil, err
		}
		out = sess
		return nil, t.audit(ctx, "mfa.ok", u.Login, map[string]string{"how": how, "session": sess.ID})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) useBackupCodeTx(ctx context.Context, t *dbtx, login, code string) (bool, error) {
	code = strings.ToLower(strings.TrimSpace(code))
	if len(code) != 11 {
		return false, nil
	}
	rows, err := t.query(ctx, "SELECT hash FROM backup_codes WHERE login = ? AND used_at = 0", login)
	if err != nil {
		return false, err
	}
	var hashes []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return false, err
		}
		hashes = append(hashes, h)
	}
	rows.Close()
	for _, h := range hashes {
		if passwordMatches(h, code) {
			_, err := t.exec(ctx, "UPDATE backup_codes SET used_at = ? WHERE login = ? AND hash = ?", s.millis(), login, h)
			return err == nil, err
		}
	}
	return false, nil
}

// BackupCodesLeft is how many unused backup codes the token's user has.
func (s *Store) BackupCodesLeft(ctx context.Context, token string) (int, error) {
	sess, err := s.Session(ctx, token)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.queryRow(ctx, "SELECT COUNT(*) FROM backup_codes WHERE login = ? AND used_at = 0", sess.User.Login).Scan(&n)
	return n, err
}

// RegenerateBackupCodes replaces the token's user's backup codes with 8
// new ones (shown once), on a current code from the authenticator app —
// a stolen session alone cannot do it. A wrong code counts towards the
// lockout.
func (s *Store) RegenerateBackupCodes(ctx context.Context, token, code string) ([]string, error) {
	var codes []string
	err := s.sessionStep(ctx, token, func(t *dbtx, p Policy, sess *Session, u *userRow) (error, error) {
		if sess.Stage != StageFull {
			return StageError(sess.Stage), nil
		}
		if !u.MFA {
			return bill.Errorf(bill.EInvalid, "您还没有绑定动态验证码。"), nil
		}
		secret, err := s.unsealSecret(u.totpSecret, u.Login)
		if err != nil {
			return nil, err
		}
		defer clear(secret)
		step, ok := validTOTP(string(secret), code, s.now(), u.totpStep)
		if !ok {
			return s.refuseAndCount(ctx, t, p, u, bill.Errorf(bill.EUnauthorized, "动态验证码不正确或已使用过。"), "mfa.fail")
		}
		if _, err := t.exec(ctx, "UPDATE users SET totp_last_step = ? WHERE login = ?", step, u.Login); err != nil {
			return nil, err
		}
		if codes, err = s.newBackupCodesTx(ctx, t, u.Login); err != nil {
			return nil, err
		}
		return nil, t.audit(ctx, "mfa.backup_codes", u.Login, map[string]string{"session": sess.ID})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// newBackupCodesTx replaces a user's backup codes, returning the new ones.
func (s *Store) newBackupCodesTx(ctx context.Context, t *dbtx, login string) ([]string, error) {
	if _, err := t.exec(ctx, "DELETE FROM backup_codes WHERE login = ?", login); err != nil {
		return nil, err
	}
	var codes []string
	for range backupN {
		c := backupCode()
		h, err := hashPassword(c)
		if err != nil {
			return nil, err
		}
		if _, err := t.exec(ctx, "INSERT INTO backup_codes (login, hash) VALUES (?,?)", login, h); err != nil {
			return nil, err
		}
		codes = append(codes, c)
	}
	return codes, nil
}
