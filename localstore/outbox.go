package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
)

// MarkSynced records that the server acknowledged the bills with these ids:
// they leave the outbox for acks and stop counting against the offline
// limits. Ids already acknowledged are skipped, so a replayed
// acknowledgement is a no-op. It returns how many bills it newly marked.
func (s *Store) MarkSynced(ctx context.Context, ids []string) (int, error) {
	marked := 0
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		n, err := s.markSynced(ctx, chunk)
		if err != nil {
			return marked, err
		}
		marked += n
	}
	return marked, nil
}

func (s *Store) markSynced(ctx context.Context, ids []string) (int, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	in := "(SELECT seq FROM bills WHERE id IN (" + placeholders(len(ids)) + "))"
	marked := 0
	err := s.tx(ctx, func(tx *wtx) error {
		var amount int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(ABS(b.total)), 0) FROM outbox o JOIN bills b ON b.seq = o.seq
			WHERE o.seq IN `+in, args...).Scan(&marked, &amount); err != nil {
			return err
		}
		if marked == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO acks (seq, acked_at) SELECT seq, ? FROM outbox WHERE seq IN "+in,
			append([]any{nowMillis(s.now())}, args...)...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM outbox WHERE seq IN "+in, args...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE station SET unsynced_count = unsynced_count - ?, unsynced_amount = unsynced_amount - ?,
			oldest_unsynced = (SELECT created_at FROM outbox ORDER BY seq LIMIT 1)`, marked, amount)
		return err
	})
	return marked, err
}

// PendingBill is a bill waiting in the outbox, as the sync service uploads it.
type PendingBill struct {
	ID        string
	Seq       int64
	BillCode  string
	BillNo    int64
	CheckCode string
	Content   []byte
	Hash      []byte
	Signature []byte
	State     string // pending | rejected
}

// PendingBills returns up to limit bills of the outbox in chain order.
func (s *Store) PendingBills(ctx context.Context, limit int) ([]PendingBill, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT b.id, b.seq, b.bill_code, b.bill_no, b.check_code, b.content, b.pii, b.hash,
		b.signature, o.state FROM outbox o JOIN bills b ON b.seq = o.seq ORDER BY o.seq LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PendingBill
	for rows.Next() {
		var p PendingBill
		var hash string
		var sealed []byte
		if err := rows.Scan(&p.ID, &p.Seq, &p.BillCode, &p.BillNo, &p.CheckCode, &p.Content, &sealed, &hash, &p.Signature, &p.State); err != nil {
			return nil, err
		}
		if p.Content, err = s.openContent(p.ID, p.Content, sealed); err != nil {
			return nil, err
		}
		if p.Hash, err = hexDecode(hash); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// MarkRejected records that the server refused (or found in conflict) the
// bill at seq: it stays in the outbox, flagged, for the administrator, and
// is not sent again until someone sorts it out.
func (s *Store) MarkRejected(ctx context.Context, seq int64, reason string) error {
	return s.tx(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'rejected', attempts = attempts + 1, last_error = ? WHERE seq = ?`, reason, seq)
		return err
	})
}

// SyncState is what the sync service last did, for the GUI and `ebill status`.
type SyncState struct {
	Online      bool      `json:"online"`
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	LastAttempt time.Time `json:"lastAttempt,omitzero"`
	LastError   string    `json:"lastError,omitempty"` // Chinese
}

const settingSyncState = "sync_state"

// SetSyncState records the sync service's state.
func (s *Store) SetSyncState(ctx context.Context, st SyncState) error {
	return s.tx(ctx, func(tx *wtx) error {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value, source, updated_at) VALUES (?,?,'sync',?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, settingSyncState, string(b), nowMillis(s.now()))
		return err
	})
}

// SyncState returns the sync service's last recorded state.
func (s *Store) SyncState(ctx context.Context) (SyncState, error) {
	var st SyncState
	var raw string
	err := s.read.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", settingSyncState).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal([]byte(raw), &st)
}

// AllocationRequestID returns the request id to use when asking for a new
// segment of billCode, creating and storing it first: a retry after a lost
// answer then asks with the same id and gets the same segment.
func (s *Store) AllocationRequestID(ctx context.Context, billCode string) (string, error) {
	key := "allocation_request:" + billCode
	var id string
	err := s.tx(ctx, func(tx *wtx) error {
		err := tx.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&id)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		id = uuid.Must(uuid.NewV7()).String()
		_, err = tx.ExecContext(ctx, "INSERT INTO settings (key, value, source, updated_at) VALUES (?,?,'sync',?)", key, id, nowMillis(s.now()))
		return err
	})
	return id, err
}

// AddAllocatedSegment stores a segment the server allocated for a request
// and forgets the request id, in one transaction.
func (s *Store) AddAllocatedSegment(ctx context.Context, seg bill.Segment) error {
	return s.tx(ctx, func(tx *wtx) error {
		if _, err := s.addSegmentTx(ctx, tx, seg, SourceServer); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM settings WHERE key = ?", "allocation_request:"+seg.Code)
		return err
	})
}

const settingSyncNow = "sync_requested_at"

// RequestSync asks the sync service (in whatever process it runs) to start
// a pass now: the GUI's and `ebill sync now`'s button.
func (s *Store) RequestSync(ctx context.Context) error {
	return s.tx(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, source, updated_at) VALUES (?, ?, 'user', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			settingSyncNow, fmt.Sprint(nowMillis(s.now())), nowMillis(s.now()))
		return err
	})
}

// SyncRequestedAt is when a pass was last asked for (zero if never).
func (s *Store) SyncRequestedAt(ctx context.Context) (time.Time, error) {
	var at int64
	err := s.read.QueryRowContext(ctx, "SELECT updated_at FROM settings WHERE key = ?", settingSyncNow).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return fromMillis(at), err
}

// PaperReport is what became of one paper number, in the version the
// station holds now: what the sync reports to the server.
type PaperReport struct {
	PaperCode, Status, BillID, Reason, Operator string
	PaperNo, UsedAt, VoidedAt, Version          int64 // times in ms; VoidedAt 0 while printed
}

// PaperAnswer is the server's answer for one reported use.
type PaperAnswer struct {
	PaperCode string
	PaperNo   int64
	Version   int64
	Stored    bool
	Message   string // why not, when not stored
}

// PendingPaper lists up to limit paper uses the server has not acknowledged
// in their current version, whose bills it already holds (a use reaches the
// server after its bill). A use the server refused waits with its reason
// until it changes again.
func (s *Store) PendingPaper(ctx context.Context, limit int) ([]PaperReport, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT u.paper_code, u.paper_no, u.status, COALESCE(u.bill_id, ''), u.reason, u.operator,
			u.used_at, COALESCE(u.voided_at, 0), u.version
		FROM paper_usage u WHERE u.version > u.synced_version AND u.sync_error = ''
			AND (u.bill_id IS NULL OR EXISTS (SELECT 1 FROM bills b JOIN acks a ON a.seq = b.seq WHERE b.id = u.bill_id))
		ORDER BY u.used_at, u.paper_code, u.paper_no LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PaperReport
	for rows.Next() {
		var u PaperReport
		if err := rows.Scan(&u.PaperCode, &u.PaperNo, &u.Status, &u.BillID, &u.Reason, &u.Operator, &u.UsedAt, &u.VoidedAt, &u.Version); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// MarkPaperSynced records the server's answers: an acknowledged version is
// synced (a later change is pending again); a refused one keeps its reason
// (PaperSyncErrors) and is not sent again until it changes.
func (s *Store) MarkPaperSynced(ctx context.Context, answers []PaperAnswer) error {
	return s.tx(ctx, func(tx *wtx) error {
		for _, a := range answers {
			var err error
			if a.Stored {
				_, err = tx.ExecContext(ctx, `UPDATE paper_usage SET synced_version = ? WHERE paper_code = ? AND paper_no = ? AND synced_version < ?`,
					a.Version, a.PaperCode, a.PaperNo, a.Version)
			} else {
				_, err = tx.ExecContext(ctx, `UPDATE paper_usage SET sync_error = ? WHERE paper_code = ? AND paper_no = ? AND version = ?`,
					a.Message, a.PaperCode, a.PaperNo, a.Version)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// ResendAfter puts back in the upload queue what the server says it does
// not hold: the acknowledged bills after chain position chainSeq, and the
// paper records used or voided after paperUpTo (Unix ms). This happens
// when the server was restored from a backup older than its last
// acknowledgements; nothing is lost, the server receives them again. It
// returns how many bills and paper records were queued again.
func (s *Store) ResendAfter(ctx context.Context, chainSeq, paperUpTo int64) (bills, paper int, err error) {
	err = s.tx(ctx, func(tx *wtx) error {
		var amount int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(ABS(b.total)), 0) FROM acks a JOIN bills b ON b.seq = a.seq
			WHERE a.seq > ?`, chainSeq).Scan(&bills, &amount); err != nil {
			return err
		}
		if bills > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (seq, created_at) SELECT a.seq, b.issued_at FROM acks a
				JOIN bills b ON b.seq = a.seq WHERE a.seq > ?`, chainSeq); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM acks WHERE seq > ?", chainSeq); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE station SET unsynced_count = unsynced_count + ?, unsynced_amount = unsynced_amount + ?,
				oldest_unsynced = (SELECT created_at FROM outbox ORDER BY seq LIMIT 1)`, bills, amount); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE paper_usage SET synced_version = 0
			WHERE synced_version > 0 AND (used_at > ? OR COALESCE(voided_at, 0) > ?)`, paperUpTo, paperUpTo)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		paper = int(n)
		return nil
	})
	if err == nil && bills+paper > 0 {
		s.log.Warn("the server lacks acknowledged work: queued again", "bills", bills, "afterSeq", chainSeq, "paper", paper)
	}
	return bills, paper, err
}
