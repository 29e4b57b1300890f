package server

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
)

// 空白票据作废 in the store room (console.md 核销管理): paper spoiled before
// it was given to any point — damp, torn, misprinted by the printer — is
// voided by a document a bill administrator drafts with the reason and a
// checker who is not the maker approves. Approved, the range can no longer
// be distributed and counts as 空白作废 in the paper declaration of the
// period of its approval.

// StoreVoid is one such document.
type StoreVoid struct {
	ID        string    `json:"id"`
	Code      string    `json:"code"`
	Start     int64     `json:"start"`
	End       int64     `json:"end"`
	Reason    string    `json:"reason"`
	State     string    `json:"state"`
	Maker     string    `json:"maker"`
	Checker   string    `json:"checker"`
	Opinion   string    `json:"opinion"`
	CreatedAt time.Time `json:"createdAt"`
	DecidedAt time.Time `json:"decidedAt"`
}

// Segment is the document's range.
func (v *StoreVoid) Segment() bill.Segment {
	return bill.Segment{Code: v.Code, Start: v.Start, End: v.End}
}

// Count is how many sheets it voids.
func (v *StoreVoid) Count() int64 { return v.End - v.Start + 1 }

// StateName is the state in Chinese.
func (v *StoreVoid) StateName() string { return DocStateNames[v.State] }

// checkStoreVoid refuses a range that is not blank paper in the store room:
// outside stock, held by a point, used, or in another void document.
func (s *Store) checkStoreVoid(ctx context.Context, q querier, v *StoreVoid) error {
	seg := v.Segment()
	stock, given, err := paperHoldings(ctx, q, s, v.Code)
	if err != nil {
		return err
	}
	in := false
	for _, st := range stock {
		in = in || (st.Start <= v.Start && v.End <= st.End)
	}
	if !in {
		return bill.Errorf(bill.EConflict, "纸质票据 %s 不在同一段已入库的号段内；请核对号码。", seg)
	}
	for _, g := range given {
		if g.Start <= v.End && g.End >= v.Start {
			return bill.Errorf(bill.EConflict, "纸质票据 %s 与%s的 %s 重叠；分发在开票点的票据请由开票点空白作废，或先退回。",
				seg, holderName(g.Point), bill.Segment{Code: v.Code, Start: g.Start, End: g.End})
		}
	}
	var used int
	if err := q.queryRow(ctx, "SELECT COUNT(*) FROM paper_usage WHERE paper_code = ? AND paper_no BETWEEN ? AND ?", v.Code, v.Start, v.End).Scan(&used); err != nil {
		return err
	}
	if used > 0 {
		return bill.Errorf(bill.EConflict, "纸质票据 %s 中有 %d 张已有使用记录，不能空白作废。", seg, used)
	}
	var other string
	err = q.queryRow(ctx, `SELECT maker FROM paper_store_voids WHERE code = ? AND start_no <= ? AND end_no >= ? AND id <> ?
		AND state IN ('draft', 'submitted', 'returned') LIMIT 1`, v.Code, v.End, v.Start, v.ID).Scan(&other)
	if err == nil {
		return bill.Errorf(bill.EConflict, "纸质票据 %s 与 %s 制单、尚未审核的空白作废单重叠。", seg, other)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

// holderName names who holds a range of paper in a refusal.
func holderName(point string) string {
	if point == "" {
		return "库房已空白作废"
	}
	return "已分发给开票点 " + point
}

// DraftStoreVoid drafts and sends a store-room void (制单 and 送审 in one
// step: there is nothing to change on it but the range and the reason).
func (s *Store) DraftStoreVoid(ctx context.Context, code string, from, to int64, reason string) (*StoreVoid, error) {
	if _, err := s.authorize(ctx, PermStockReceive); err != nil {
		return nil, err
	}
	v := &StoreVoid{ID: uuid.Must(uuid.NewV7()).String(), Code: strings.TrimSpace(code), Start: from, End: to,
		Reason: strings.TrimSpace(reason), State: DocSubmitted, Maker: personOf(ctx)}
	switch {
	case v.Reason == "" || utf8.RuneCountInString(v.Reason) > 200:
		return nil, bill.Errorf(bill.EInvalid, "请填写作废原因（不超过 200 个字），例如“受潮”“印刷错误”。")
	case v.Code == "" || from < 1 || to < from:
		return nil, bill.Errorf(bill.EInvalid, "请填写纸质票据代码和起止号码（终止号码不小于起始号码）。")
	case to-from >= 100000:
		return nil, bill.Errorf(bill.EInvalid, "一次最多作废 100000 张。")
	}
	now := s.millis()
	v.CreatedAt = time.UnixMilli(now).UTC()
	err := s.tx(ctx, func(t *dbtx) error {
		if err := s.checkStoreVoid(ctx, t, v); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO paper_store_voids (id, code, start_no, end_no, reason, state, maker, created_at) VALUES (?,?,?,?,?,?,?,?)`,
			v.ID, v.Code, v.Start, v.End, v.Reason, v.State, v.Maker, now); err != nil {
			return err
		}
		return t.audit(ctx, "paper.store_void.submit", v.Code, map[string]any{"doc": v.ID, "from": from, "to": to, "reason": v.Reason})
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// DecideStoreVoid approves a sent store-room void — checked again, the
// sheets are void from now — or returns it with an opinion; the checker
// may not be the maker.
func (s *Store) DecideStoreVoid(ctx context.Context, id string, approve bool, opinion string) (*StoreVoid, error) {
	if _, err := s.authorize(ctx, PermStockApprove); err != nil {
		return nil, err
	}
	opinion = strings.TrimSpace(opinion)
	if (!approve && opinion == "") || utf8.RuneCountInString(opinion) > 200 {
		return nil, bill.Errorf(bill.EInvalid, "退回请填写审核意见（不超过 200 个字）。")
	}
	var out *StoreVoid
	err := s.tx(ctx, func(t *dbtx) error {
		v, err := scanStoreVoid(t.queryRow(ctx, "SELECT "+storeVoidColumns+" FROM paper_store_voids WHERE id = ?"+s.forUpdate(), id))
		if errors.Is(err, sql.ErrNoRows) {
			return bill.Errorf(bill.ENotFound, "没有这张空白作废单；请刷新页面。")
		}
		if err != nil {
			return err
		}
		who := personOf(ctx)
		switch {
		case v.Maker == who:
			return bill.Errorf(bill.EForbidden, "不能审核自己制单的空白作废单；请由另一位票据审核员审核。")
		case v.State != DocSubmitted:
			return bill.Errorf(bill.EConflict, "空白作废单%s，只有已送审的可以审核。", v.StateName())
		}
		state, action := DocReturned, "paper.store_void.return"
		if approve {
			state, action = DocApproved, "paper.store_void.approve"
			if err := s.checkStoreVoid(ctx, t, v); err != nil {
				return err
			}
		}
		now := s.millis()
		if _, err := t.exec(ctx, "UPDATE paper_store_voids SET state = ?, checker = ?, opinion = ?, decided_at = ? WHERE id = ?",
			state, who, opinion, now, id); err != nil {
			return err
		}
		v.State, v.Checker, v.Opinion, v.DecidedAt = state, who, opinion, time.UnixMilli(now).UTC()
		out = v
		return t.audit(ctx, action, v.Code, map[string]any{"doc": id, "from": v.Start, "to": v.End, "opinion": opinion})
	})
	return out, err
}

const storeVoidColumns = "id, code, start_no, end_no, reason, state, maker, checker, opinion, created_at, decided_at"

func scanStoreVoid(r interface{ Scan(...any) error }) (*StoreVoid, error) {
	var v StoreVoid
	var created int64
	var decided sql.NullInt64
	if err := r.Scan(&v.ID, &v.Code, &v.Start, &v.End, &v.Reason, &v.State, &v.Maker, &v.Checker, &v.Opinion, &created, &decided); err != nil {
		return nil, err
	}
	v.CreatedAt = time.UnixMilli(created).UTC()
	if decided.Valid {
		v.DecidedAt = time.UnixMilli(decided.Int64).UTC()
	}
	return &v, nil
}

// StoreVoids lists the store-room voids, newest first (at most 500).
func (s *Store) StoreVoids(ctx context.Context) ([]StoreVoid, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, "SELECT "+storeVoidColumns+" FROM paper_store_voids ORDER BY created_at DESC, id DESC LIMIT 500")
	return collect(rows, err, scanStoreVoid)
}
