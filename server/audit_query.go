package server

import (
	"context"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
)

// The audit administrator's reading of the trail (security.md AU-7):
// queries by time, person and action, newest first, a page at a time;
// export; verification. Each is itself recorded.

// AuditQuery selects audit records; zero fields select all.
type AuditQuery struct {
	From, To time.Time // [From, To)
	Actor    string    // who: a login, "station:P01", "his:app"… (the record's actor contains it)
	Action   string    // the action, or its start ("login" finds login and login.fail)
	Before   int64     // the page after: records with seq < Before (keyset paging); 0 from the newest
	Limit    int       // default 50, at most 500
}

func (q AuditQuery) where() (string, []any) {
	w, args := " WHERE 1 = 1", []any{}
	if !q.From.IsZero() {
		w, args = w+" AND at >= ?", append(args, q.From.UnixMilli())
	}
	if !q.To.IsZero() {
		w, args = w+" AND at < ?", append(args, q.To.UnixMilli())
	}
	if a := strings.TrimSpace(q.Actor); a != "" {
		w, args = w+" AND actor LIKE ?", append(args, "%"+escapeLike(a)+"%")
	}
	if a := strings.TrimSpace(q.Action); a != "" {
		w, args = w+" AND action LIKE ?", append(args, escapeLike(a)+"%")
	}
	if q.Before > 0 {
		w, args = w+" AND seq < ?", append(args, q.Before)
	}
	return w, args
}

// escapeLike makes text match itself in a LIKE pattern (no wildcards of its own).
func escapeLike(s string) string {
	return strings.NewReplacer("%", "", "_", "").Replace(s)
}

// QueryAudit is one page of the records q selects, newest first, and the
// Before of the next page (0 when this is the last).
func (s *Store) QueryAudit(ctx context.Context, q AuditQuery) ([]AuditRecord, int64, error) {
	if _, err := s.authorize(ctx, PermAuditRead); err != nil {
		return nil, 0, err
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	recs, err := s.auditRows(ctx, q, q.Limit+1)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(recs) > q.Limit {
		recs = recs[:q.Limit]
		next = recs[len(recs)-1].Seq
	}
	if q.Before == 0 { // a new query, not the next page of one
		if err := s.tx(ctx, func(t *dbtx) error { return t.audit(ctx, "audit.query", "audit", q) }); err != nil {
			return nil, 0, err
		}
	}
	return recs, next, nil
}

// MaxAuditExport bounds an export.
const MaxAuditExport = 200_000

// ExportAudit is every record q selects (at most MaxAuditExport), newest
// first, for the auditor's export.
func (s *Store) ExportAudit(ctx context.Context, q AuditQuery) ([]AuditRecord, error) {
	if _, err := s.authorize(ctx, PermAuditExport); err != nil {
		return nil, err
	}
	recs, err := s.auditRows(ctx, q, MaxAuditExport+1)
	if err != nil {
		return nil, err
	}
	if len(recs) > MaxAuditExport {
		return nil, bill.Errorf(bill.EInvalid, "所选记录超过 %d 条，请缩小时间范围后分批导出。", MaxAuditExport)
	}
	return recs, s.tx(ctx, func(t *dbtx) error {
		return t.audit(ctx, "audit.export", "audit", map[string]any{"query": q, "records": len(recs)})
	})
}

// CheckAudit verifies the whole trail as the auditor (VerifyAudit), and
// records that it did, with the outcome.
func (s *Store) CheckAudit(ctx context.Context) (int64, error) {
	if _, err := s.authorize(ctx, PermAuditVerify); err != nil {
		return 0, err
	}
	n, verr := s.VerifyAudit(ctx)
	result := "ok"
	if verr != nil {
		result = bill.ErrorMessage(verr)
	}
	if err := s.tx(ctx, func(t *dbtx) error {
		return t.audit(ctx, "audit.verify", "audit", map[string]any{"records": n, "result": result})
	}); err != nil {
		return n, err
	}
	return n, verr
}

func (s *Store) auditRows(ctx context.Context, q AuditQuery, limit int) ([]AuditRecord, error) {
	w, args := q.where()
	rows, err := s.query(ctx, `SELECT seq, at, actor, remote, action, target, detail, prev_hash, hash FROM audit`+w+
		` ORDER BY seq DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	return scanAudit(rows)
}
