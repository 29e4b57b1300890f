package localstore

import (
	"context"
	"database/sql"
)

// MarkSynced records that the server acknowledged the bills with these ids:
// they leave the outbox and stop counting against the offline limits. Ids
// already acknowledged are skipped, so a replayed acknowledgement is a no-op.
// It returns how many bills it newly marked.
func (s *Store) MarkSynced(ctx context.Context, ids []string) (int, error) {
	marked := 0
	err := s.tx(ctx, func(tx *wtx) error {
		marked = 0
		now := nowMillis(s.now())
		for _, id := range ids {
			var seq, total int64
			err := tx.QueryRowContext(ctx, `DELETE FROM outbox WHERE seq = (SELECT seq FROM bills WHERE id = ?)
				RETURNING seq, (SELECT ABS(total) FROM bills WHERE seq = outbox.seq)`, id).Scan(&seq, &total)
			if err == sql.ErrNoRows {
				continue
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO acks (seq, acked_at) VALUES (?, ?)", seq, now); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE station SET unsynced_count = unsynced_count - 1,
				unsynced_amount = unsynced_amount - ?`, total); err != nil {
				return err
			}
			marked++
		}
		_, err := tx.ExecContext(ctx, "UPDATE station SET oldest_unsynced = (SELECT created_at FROM outbox ORDER BY seq LIMIT 1)")
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
	rows, err := s.read.QueryContext(ctx, `SELECT b.id, b.seq, b.bill_code, b.bill_no, b.check_code, b.content, b.hash,
		b.signature, o.state FROM outbox o JOIN bills b ON b.seq = o.seq ORDER BY o.seq LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PendingBill
	for rows.Next() {
		var p PendingBill
		var hash string
		if err := rows.Scan(&p.ID, &p.Seq, &p.BillCode, &p.BillNo, &p.CheckCode, &p.Content, &hash, &p.Signature, &p.State); err != nil {
			return nil, err
		}
		if p.Hash, err = hexDecode(hash); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
