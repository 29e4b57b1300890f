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
	err := s.tx(ctx, func(tx *sql.Tx) error {
		marked = 0
		now := nowMillis(s.now())
		for _, id := range ids {
			var total int64
			err := tx.QueryRowContext(ctx, `UPDATE outbox SET acked_at = ?, state = 'acked', last_error = ''
				WHERE bill_id = ? AND acked_at IS NULL
				RETURNING (SELECT ABS(total) FROM bills WHERE id = outbox.bill_id)`, now, id).Scan(&total)
			if err == sql.ErrNoRows {
				continue
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE station SET unsynced_count = unsynced_count - 1,
				unsynced_amount = unsynced_amount - ?`, total); err != nil {
				return err
			}
			marked++
		}
		return nil
	})
	return marked, err
}
