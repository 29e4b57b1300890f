package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ebill/ebill/bill"
)

// Actor is who makes a change and from where; it travels in the context
// so that every state-changing store call can write it to the audit trail.
type Actor struct {
	Who  string // "user:lin", "station:P01", "cli:root"
	From string // remote address, or "local"
	// User is the signed-in person acting, whose permissions are checked.
	User *User
	// System marks the server's own work, which no person signs in for.
	System bool
}

type actorKey struct{}

// WithActor returns ctx carrying the actor of the changes made under it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf is the actor of the changes made under ctx.
func ActorOf(ctx context.Context) Actor { return actorOf(ctx) }

func actorOf(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Who: "unknown", From: "local"}
}

// AuditRecord is one entry of the append-only audit trail. Each record's
// hash covers its content and the previous record's hash, so an edit, a
// deletion or a reordering breaks the chain from that record on.
type AuditRecord struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Remote   string          `json:"remote"`
	Action   string          `json:"action"`
	Target   string          `json:"target"`
	Detail   json.RawMessage `json:"detail"`
	PrevHash string          `json:"prevHash"`
	Hash     string          `json:"hash"`
}

// audit appends a record in the caller's transaction: the change and its
// record commit together or not at all.
func (t *dbtx) audit(ctx context.Context, action, target string, detail any) error {
	d, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	a := actorOf(ctx)
	r := &AuditRecord{At: time.UnixMilli(t.s.millis()).UTC(), Actor: a.Who, Remote: a.From, Action: action, Target: target, Detail: d}
	if err := t.queryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1"+t.s.forUpdate()).Scan(&r.Seq, &r.PrevHash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	r.Seq++
	r.Hash = t.s.auditHash(r)
	if _, err := t.exec(ctx, `INSERT INTO audit (seq, at, actor, remote, action, target, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)`,
		r.Seq, r.At.UnixMilli(), r.Actor, r.Remote, r.Action, r.Target, string(r.Detail), r.PrevHash, r.Hash); err != nil {
		return err
	}
	_, err = t.exec(ctx, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", r.Seq, r.Hash)
	return err
}

// AuditTrail returns audit records after seq `after`, oldest first.
func (s *Store) AuditTrail(ctx context.Context, after int64, limit int) ([]AuditRecord, error) {
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	rows, err := s.query(ctx, `SELECT seq, at, actor, remote, action, target, detail, prev_hash, hash FROM audit
		WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	return scanAudit(rows)
}

// scanAudit reads audit rows (seq, at, actor, remote, action, target,
// detail, prev_hash, hash) and closes them.
func scanAudit(rows *sql.Rows) ([]AuditRecord, error) {
	defer rows.Close()
	var out []AuditRecord
	for rows.Next() {
		var r AuditRecord
		var at int64
		var detail string
		if err := rows.Scan(&r.Seq, &at, &r.Actor, &r.Remote, &r.Action, &r.Target, &detail, &r.PrevHash, &r.Hash); err != nil {
			return nil, err
		}
		r.At, r.Detail = time.UnixMilli(at).UTC(), json.RawMessage(detail)
		out = append(out, r)
	}
	return out, rows.Err()
}

// VerifyAudit walks the whole trail and reports the first broken link:
// a record whose hash or link does not match, a gap, or a head that does
// not match the last record. It returns the number of records checked.
func (s *Store) VerifyAudit(ctx context.Context) (int64, error) {
	prev, want := bill.GenesisHash, int64(1)
	for {
		recs, err := s.AuditTrail(ctx, want-1, 5000)
		if err != nil {
			return 0, err
		}
		for i := range recs {
			r := &recs[i]
			switch {
			case r.Seq != want:
				return want - 1, bill.Errorf(bill.ETampered, "审计记录第 %d 条缺失（下一条为第 %d 条）", want, r.Seq)
			case r.PrevHash != prev:
				return want - 1, bill.Errorf(bill.ETampered, "审计记录第 %d 条与前一条的链接断开", r.Seq)
			case s.auditHash(r) != r.Hash:
				return want - 1, bill.Errorf(bill.ETampered, "审计记录第 %d 条内容被改动", r.Seq)
			}
			prev, want = r.Hash, want+1
		}
		if len(recs) < 5000 {
			break
		}
	}
	var headSeq int64
	var headHash string
	if err := s.queryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&headSeq, &headHash); err != nil {
		return 0, err
	}
	if headSeq != want-1 || headHash != prev {
		return want - 1, bill.Errorf(bill.ETampered, "审计记录链尾不符：记录到第 %d 条，实有 %d 条（最后的记录被删除）", headSeq, want-1)
	}
	return want - 1, nil
}
