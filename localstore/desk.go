package localstore

import (
	"context"
	"time"

	"github.com/ebill/ebill/bill"
)

// What the desktop app keeps at the station besides bills: sign-in
// failures (for the lockout), the user's font size, messages read.

const (
	settingLoginPrefix = "desk.login."
	settingFontScale   = "desk.font_scale"
)

// LoginLock is the sign-in failures of one login.
type LoginLock struct {
	Failures    int       `json:"failures"`
	LockedUntil time.Time `json:"lockedUntil,omitzero"`
}

// Locked reports whether sign-in is refused at now.
func (l LoginLock) Locked(now time.Time) bool { return now.Before(l.LockedUntil) }

// LoginLockOf returns the sign-in failures recorded for login.
func (s *Store) LoginLockOf(ctx context.Context, login string) (LoginLock, error) {
	var l LoginLock
	_, err := s.readSetting(ctx, settingLoginPrefix+login, &l)
	return l, err
}

// RecordLoginFailure counts a failed sign-in at now; the max-th failure in
// a row locks the login for lockFor. It returns the new state.
func (s *Store) RecordLoginFailure(ctx context.Context, login string, now time.Time, maxFailures int, lockFor time.Duration) (LoginLock, error) {
	l, err := s.LoginLockOf(ctx, login)
	if err != nil {
		return l, err
	}
	if !l.LockedUntil.IsZero() && !l.Locked(now) {
		l = LoginLock{} // a lock that ran out starts the count again
	}
	l.Failures++
	if l.Failures >= maxFailures {
		l.LockedUntil = now.Add(lockFor).UTC()
	}
	return l, s.localSetting(ctx, settingLoginPrefix+login, l)
}

// ClearLoginFailures forgets the failures of login after a good sign-in.
func (s *Store) ClearLoginFailures(ctx context.Context, login string) error {
	return s.localSetting(ctx, settingLoginPrefix+login, LoginLock{})
}

// SetFontScale stores the desktop's text size (1 = normal).
func (s *Store) SetFontScale(ctx context.Context, scale float64) error {
	if scale < 0.8 || scale > 2 {
		return bill.Errorf(bill.EInvalid, "字号比例应在 0.8 到 2 之间。")
	}
	return s.localSetting(ctx, settingFontScale, scale)
}

// FontScale is the desktop's text size; 1 when never set.
func (s *Store) FontScale(ctx context.Context) (float64, error) {
	scale := 1.0
	_, err := s.readSetting(ctx, settingFontScale, &scale)
	return scale, err
}

// MarkMessageRead marks a message from the centre as read.
func (s *Store) MarkMessageRead(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, "UPDATE messages SET read_at = ? WHERE id = ? AND read_at IS NULL", nowMillis(s.now()), id)
		return err
	})
}

// PaperEvent is a paper bill voided or blank-voided.
type PaperEvent struct {
	Code     string
	No       int64
	Status   string
	Reason   string
	Operator string
	At       time.Time
}

// PaperVoids lists the paper numbers voided in [from, to), by operator when
// operator is not empty: for the daily closing.
func (s *Store) PaperVoids(ctx context.Context, from, to time.Time, operator string) ([]PaperEvent, error) {
	q := `SELECT paper_code, paper_no, status, reason, operator, COALESCE(voided_at, used_at) AS at FROM paper_usage
		WHERE status IN ('voided', 'blank_void') AND COALESCE(voided_at, used_at) >= ? AND COALESCE(voided_at, used_at) < ?`
	args := []any{nowMillis(from), nowMillis(to)}
	if operator != "" {
		q += " AND operator = ?"
		args = append(args, operator)
	}
	rows, err := s.read.QueryContext(ctx, q+" ORDER BY at", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PaperEvent
	for rows.Next() {
		var e PaperEvent
		var at int64
		if err := rows.Scan(&e.Code, &e.No, &e.Status, &e.Reason, &e.Operator, &at); err != nil {
			return nil, err
		}
		e.At = fromMillis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// ReadReceipt is a message the desk has read, and when.
type ReadReceipt struct {
	ID string
	At time.Time
}

// ReadReceipts are up to 200 messages read at the desk whose receipt the
// centre has not acknowledged yet.
func (s *Store) ReadReceipts(ctx context.Context) ([]ReadReceipt, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT id, read_at FROM messages WHERE read_at IS NOT NULL AND read_sent = 0 ORDER BY read_at LIMIT 200")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReadReceipt
	for rows.Next() {
		var r ReadReceipt
		var at int64
		if err := rows.Scan(&r.ID, &at); err != nil {
			return nil, err
		}
		r.At = fromMillis(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarkReadsSent records that the centre has the receipts of these messages.
func (s *Store) MarkReadsSent(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *wtx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, "UPDATE messages SET read_sent = 1 WHERE id = ?", id); err != nil {
				return err
			}
		}
		return nil
	})
}
