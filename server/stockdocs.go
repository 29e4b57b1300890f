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

// Stock intake as documents (console.md 票源管理): a bill administrator
// drafts a document naming the range received and the 领用证 it came on,
// sends it for checking, and a checker who is not the maker approves it —
// only then is the range in stock — or returns it with an opinion.

// Document states (console.md: 草稿 → 已送审 → 已审核 or 已退回).
const (
	DocDraft     = "draft"
	DocSubmitted = "submitted"
	DocApproved  = "approved"
	DocReturned  = "returned"
)

// DocStateNames are the states as users read them.
var DocStateNames = map[string]string{DocDraft: "草稿", DocSubmitted: "已送审", DocApproved: "已审核", DocReturned: "已退回"}

// StockDoc is one intake document.
type StockDoc struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Code        string    `json:"code"`
	Start       int64     `json:"start"`
	End         int64     `json:"end"`
	Certificate string    `json:"certificate"` // 领用证号, "" when the bureau issues none
	Note        string    `json:"note"`
	State       string    `json:"state"`
	Maker       string    `json:"maker"`
	Checker     string    `json:"checker"`
	Opinion     string    `json:"opinion"`
	CreatedAt   time.Time `json:"createdAt"`
	SubmittedAt time.Time `json:"submittedAt"`
	DecidedAt   time.Time `json:"decidedAt"`
}

// Segment is the document's range.
func (d *StockDoc) Segment() bill.Segment {
	return bill.Segment{Code: d.Code, Start: d.Start, End: d.End}
}

// Count is how many numbers the document receives.
func (d *StockDoc) Count() int64 { return d.End - d.Start + 1 }

// StateName is the state in Chinese.
func (d *StockDoc) StateName() string { return DocStateNames[d.State] }

// KindName is the stock kind in Chinese.
func (d *StockDoc) KindName() string { return StockKindName(d.Kind) }

// StockKindName is a stock kind in Chinese.
func StockKindName(kind string) string {
	if kind == StockPaper {
		return "纸质票据"
	}
	return "电子票据"
}

// personOf is who acts, as documents record it: the login of a signed-in
// person, else the actor's name.
func personOf(ctx context.Context) string {
	a := actorOf(ctx)
	if a.User != nil {
		return a.User.Login
	}
	return a.Who
}

// DraftStock records an intake document as a draft (制单). The range is
// checked now against stock received and other open documents, and again
// on approval.
func (s *Store) DraftStock(ctx context.Context, d StockDoc) (*StockDoc, error) {
	if _, err := s.authorize(ctx, PermStockReceive); err != nil {
		return nil, err
	}
	d.Code, d.Certificate, d.Note = strings.TrimSpace(d.Code), strings.TrimSpace(d.Certificate), strings.TrimSpace(d.Note)
	if err := checkStockRange(d.Kind, d.Segment()); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(d.Certificate) > 50 || utf8.RuneCountInString(d.Note) > 200 {
		return nil, bill.Errorf(bill.EInvalid, "领用证号不超过 50 个字，备注不超过 200 个字。")
	}
	d.ID, d.State, d.Maker, d.Checker, d.Opinion = uuid.Must(uuid.NewV7()).String(), DocDraft, personOf(ctx), "", ""
	now := s.millis()
	d.CreatedAt = time.UnixMilli(now).UTC()
	err := s.tx(ctx, func(t *dbtx) error {
		if err := s.checkCertificate(ctx, t, d.Certificate, d.Code); err != nil {
			return err
		}
		if err := s.docOverlap(ctx, t, &d); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO stock_docs (id, kind, code, start_no, end_no, certificate, note, state, maker, created_at)
			VALUES (?,?,?,?,?,?,?,?,?,?)`, d.ID, d.Kind, d.Code, d.Start, d.End, d.Certificate, d.Note, d.State, d.Maker, now); err != nil {
			return err
		}
		return t.audit(ctx, "stock.draft", d.Code, map[string]any{"doc": d.ID, "kind": d.Kind, "from": d.Start, "to": d.End, "certificate": d.Certificate})
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// docOverlap refuses a range that overlaps stock received or another open
// document's range, naming the clash.
func (s *Store) docOverlap(ctx context.Context, q querier, d *StockDoc) error {
	if err := s.stockOverlap(ctx, q, d.Kind, d.Segment()); err != nil {
		return err
	}
	var other StockDoc
	err := q.queryRow(ctx, `SELECT id, start_no, end_no, maker FROM stock_docs WHERE kind = ? AND code = ? AND start_no <= ? AND end_no >= ?
		AND state IN ('draft', 'submitted', 'returned') AND id <> ? ORDER BY start_no LIMIT 1`, d.Kind, d.Code, d.End, d.Start, d.ID).
		Scan(&other.ID, &other.Start, &other.End, &other.Maker)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	other.Code = d.Code
	return bill.Errorf(bill.EConflict, "入库号段 %s 与 %s 制单、尚未审核的入库单 %s 重叠，已拒绝；请核对号码或先处理那张入库单。",
		d.Segment(), other.Maker, other.Segment())
}

// SubmitStock sends a draft or returned document for checking (送审); only
// its maker may.
func (s *Store) SubmitStock(ctx context.Context, id string) error {
	if _, err := s.authorize(ctx, PermStockReceive); err != nil {
		return err
	}
	return s.tx(ctx, func(t *dbtx) error {
		d, err := s.stockDoc(ctx, t, id)
		if err != nil {
			return err
		}
		if d.Maker != personOf(ctx) {
			return bill.Errorf(bill.EForbidden, "入库单只能由制单人 %s 送审。", d.Maker)
		}
		if d.State != DocDraft && d.State != DocReturned {
			return bill.Errorf(bill.EConflict, "入库单%s，不能再送审。", d.StateName())
		}
		if err := s.docOverlap(ctx, t, d); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "UPDATE stock_docs SET state = 'submitted', submitted_at = ? WHERE id = ?", s.millis(), id); err != nil {
			return err
		}
		return t.audit(ctx, "stock.submit", d.Code, map[string]any{"doc": id})
	})
}

// DecideStock approves a submitted document — the range enters stock — or
// returns it to its maker with an opinion (required then). The checker may
// not be the maker.
func (s *Store) DecideStock(ctx context.Context, id string, approve bool, opinion string) (*StockDoc, error) {
	if _, err := s.authorize(ctx, PermStockApprove); err != nil {
		return nil, err
	}
	opinion = strings.TrimSpace(opinion)
	if !approve && opinion == "" {
		return nil, bill.Errorf(bill.EInvalid, "退回入库单请填写审核意见，告诉制单人要改什么。")
	}
	if utf8.RuneCountInString(opinion) > 200 {
		return nil, bill.Errorf(bill.EInvalid, "审核意见不超过 200 个字。")
	}
	var out *StockDoc
	err := s.tx(ctx, func(t *dbtx) error {
		d, err := s.stockDoc(ctx, t, id)
		if err != nil {
			return err
		}
		who := personOf(ctx)
		if d.Maker == who {
			return bill.Errorf(bill.EForbidden, "不能审核自己制单的入库单；请由另一位票据审核员审核。")
		}
		if d.State != DocSubmitted {
			return bill.Errorf(bill.EConflict, "入库单%s，只有已送审的入库单可以审核。", d.StateName())
		}
		state, action := DocReturned, "stock.return"
		var stockID any
		if approve {
			state, action = DocApproved, "stock.approve"
			if err := s.checkCertificate(ctx, t, d.Certificate, d.Code); err != nil {
				return err
			}
			sid, err := s.receiveStockTx(ctx, t, d.Kind, d.Segment(), d.ID)
			if err != nil {
				return err
			}
			stockID = sid
		}
		now := s.millis()
		if _, err := t.exec(ctx, "UPDATE stock_docs SET state = ?, checker = ?, opinion = ?, decided_at = ?, stock_id = ? WHERE id = ?",
			state, who, opinion, now, stockID, id); err != nil {
			return err
		}
		d.State, d.Checker, d.Opinion, d.DecidedAt = state, who, opinion, time.UnixMilli(now).UTC()
		out = d
		return t.audit(ctx, action, d.Code, map[string]any{"doc": id, "opinion": opinion})
	})
	return out, err
}

// UnapproveStock withdraws an approval (反审核): the range leaves the stock
// and the document is back with the checkers, 已送审. Only while none of
// its numbers was allocated or distributed, and only by a checker; the
// reason is required and kept as the opinion.
func (s *Store) UnapproveStock(ctx context.Context, id, reason string) (*StockDoc, error) {
	if _, err := s.authorize(ctx, PermStockApprove); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return nil, bill.Errorf(bill.EInvalid, "反审核请填写原因（不超过 200 个字）。")
	}
	var out *StockDoc
	err := s.tx(ctx, func(t *dbtx) error {
		d, err := s.stockDoc(ctx, t, id)
		if err != nil {
			return err
		}
		if d.State != DocApproved {
			return bill.Errorf(bill.EConflict, "入库单%s，只有已审核的入库单可以反审核。", d.StateName())
		}
		var stockID string
		var next, start int64
		if err := t.queryRow(ctx, "SELECT id, next_no, start_no FROM stock WHERE id = (SELECT stock_id FROM stock_docs WHERE id = ?)"+s.forUpdate(), id).
			Scan(&stockID, &next, &start); err != nil {
			return err
		}
		var used int
		if err := t.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM segments WHERE stock_id = ?) + (SELECT COUNT(*) FROM point_paper WHERE stock_id = ?)`,
			stockID, stockID).Scan(&used); err != nil {
			return err
		}
		if used > 0 || next != start {
			return bill.Errorf(bill.EConflict, "%s 已有号码分配或分发给开票点，不能反审核；如入库有误，请走数据修正。", d.Segment())
		}
		if _, err := t.exec(ctx, "UPDATE stock_docs SET state = 'submitted', stock_id = NULL, checker = ?, opinion = ?, decided_at = ? WHERE id = ?",
			personOf(ctx), "反审核："+reason, s.millis(), id); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "DELETE FROM stock WHERE id = ?", stockID); err != nil {
			return err
		}
		d.State, d.Checker, d.Opinion = DocSubmitted, personOf(ctx), "反审核："+reason
		out = d
		return t.audit(ctx, "stock.unapprove", d.Code, map[string]any{"doc": id, "from": d.Start, "to": d.End, "reason": reason})
	})
	return out, err
}

// DeleteStockDraft removes a draft or returned document of the maker's own.
func (s *Store) DeleteStockDraft(ctx context.Context, id string) error {
	if _, err := s.authorize(ctx, PermStockReceive); err != nil {
		return err
	}
	return s.tx(ctx, func(t *dbtx) error {
		d, err := s.stockDoc(ctx, t, id)
		if err != nil {
			return err
		}
		if d.Maker != personOf(ctx) || (d.State != DocDraft && d.State != DocReturned) {
			return bill.Errorf(bill.EConflict, "只能删除自己的草稿或被退回的入库单。")
		}
		if _, err := t.exec(ctx, "DELETE FROM stock_docs WHERE id = ?", id); err != nil {
			return err
		}
		return t.audit(ctx, "stock.delete", d.Code, map[string]any{"doc": id, "from": d.Start, "to": d.End})
	})
}

const stockDocColumns = `id, kind, code, start_no, end_no, certificate, note, state, maker, checker, opinion, created_at, submitted_at, decided_at`

func scanStockDoc(r interface{ Scan(...any) error }) (*StockDoc, error) {
	var d StockDoc
	var created, submitted, decided int64
	if err := r.Scan(&d.ID, &d.Kind, &d.Code, &d.Start, &d.End, &d.Certificate, &d.Note, &d.State, &d.Maker, &d.Checker, &d.Opinion,
		&created, &submitted, &decided); err != nil {
		return nil, err
	}
	d.CreatedAt = time.UnixMilli(created).UTC()
	if submitted > 0 {
		d.SubmittedAt = time.UnixMilli(submitted).UTC()
	}
	if decided > 0 {
		d.DecidedAt = time.UnixMilli(decided).UTC()
	}
	return &d, nil
}

func (s *Store) stockDoc(ctx context.Context, q querier, id string) (*StockDoc, error) {
	d, err := scanStockDoc(q.queryRow(ctx, "SELECT "+stockDocColumns+" FROM stock_docs WHERE id = ?"+s.forUpdateIf(q), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "没有这张入库单（%s）；请刷新页面。", Truncate(id, 40))
	}
	return d, err
}

// StockDoc is one document.
func (s *Store) StockDoc(ctx context.Context, id string) (*StockDoc, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	return s.stockDoc(ctx, s, id)
}

// StockDocs lists documents, newest first, in the given states (all when
// none), at most 500.
func (s *Store) StockDocs(ctx context.Context, states ...string) ([]StockDoc, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	q := "SELECT " + stockDocColumns + " FROM stock_docs"
	var args []any
	if len(states) > 0 {
		q += " WHERE state IN (?" + strings.Repeat(",?", len(states)-1) + ")"
		for _, st := range states {
			args = append(args, st)
		}
	}
	rows, err := s.query(ctx, q+" ORDER BY created_at DESC, id DESC LIMIT 500", args...)
	return collect(rows, err, scanStockDoc)
}

// Truncate cuts s to at most n bytes, on a character boundary: what a
// message or a log may quote of what a caller sent.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
