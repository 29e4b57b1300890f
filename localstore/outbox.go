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
