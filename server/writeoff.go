package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
)

// Write-off declarations (核销申报, console.md): per period and bill code,
// e-bills and paper apart, optionally for one billing point. A bill
// administrator drafts one (制单) — the figures are computed then, and
// again when it is sent — and sends it (送审) once the period has ended and
// its checks hold; a checker who is not the maker approves it (the period
// is then closed: what the server records afterwards goes to the next
// declaration, as 补记) or returns it with an opinion. Declarations of one
// code and scope form a chain: no overlaps, and each is sent only after
// the one before it is approved.

// DocReported is a declaration approved and reported to the finance bureau.
const DocReported = "reported"

// WriteOff is one declaration.
type WriteOff struct {
	ID          string           `json:"id"`
	Kind        string           `json:"kind"`
	Code        string           `json:"code"`
	Point       string           `json:"point"`
	From        time.Time        `json:"from"`
	To          time.Time        `json:"to"`
	State       string           `json:"state"`
	Maker       string           `json:"maker"`
	Checker     string           `json:"checker"`
	Opinion     string           `json:"opinion"`
	Note        string           `json:"note"`
	Figures     *WriteOffFigures `json:"figures"`
	CutAt       time.Time        `json:"cutAt"`
	CreatedAt   time.Time        `json:"createdAt"`
	SubmittedAt time.Time        `json:"submittedAt"`
	DecidedAt   time.Time        `json:"decidedAt"`
}

// StateName is the state in Chinese.
func (w *WriteOff) StateName() string {
	if w.State == DocReported {
		return "已上报"
	}
	return DocStateNames[w.State]
}

// KindName is 电子票据 or 纸质票据.
func (w *WriteOff) KindName() string { return StockKindName(w.Kind) }

// Closed reports whether the declaration closes its period.
func (w *WriteOff) Closed() bool { return w.State == DocApproved || w.State == DocReported }

// PeriodText is the period in Beijing dates, the end inclusive.
func (w *WriteOff) PeriodText() string {
	return w.From.In(bill.Beijing).Format("2006-01-02") + " 至 " + w.To.Add(-time.Millisecond).In(bill.Beijing).Format("2006-01-02")
}

// ScopeText names the scope: the unit or one billing point.
func (w *WriteOff) ScopeText() string {
	if w.Point == "" {
		return "全单位"
	}
	return "开票点 " + w.Point
}

// Title is the declaration's title.
func (w *WriteOff) Title() string {
	if w.Kind == StockPaper {
		return "纸质票据核销申报表"
	}
	return "电子票据核销申报表"
}

// WriteOffInput is what a maker gives for a new declaration.
type WriteOffInput struct {
	Kind, Code, Point string
	From, To          time.Time
	Note              string
}

// DraftWriteOff records a new declaration as a draft, with its figures.
func (s *Store) DraftWriteOff(ctx context.Context, in WriteOffInput) (*WriteOff, error) {
	if _, err := s.authorize(ctx, PermWriteOff); err != nil {
		return nil, err
	}
	in.Code, in.Point, in.Note = strings.TrimSpace(in.Code), strings.TrimSpace(in.Point), strings.TrimSpace(in.Note)
	switch {
	case in.Kind != StockEInvoice && in.Kind != StockPaper:
		return nil, bill.Errorf(bill.EInvalid, "请选择电子票据或纸质票据。")
	case in.Code == "" || utf8.RuneCountInString(in.Code) > 20:
		return nil, bill.Errorf(bill.EInvalid, "请填写票据代码。")
	case !in.To.After(in.From):
		return nil, bill.Errorf(bill.EInvalid, "核销期间的结束日期须晚于开始日期。")
	case in.To.Sub(in.From) > 366*24*time.Hour:
		return nil, bill.Errorf(bill.EInvalid, "一张核销申报表最多一年。")
	case utf8.RuneCountInString(in.Note) > 200:
		return nil, bill.Errorf(bill.EInvalid, "备注不超过 200 个字。")
	}
	var known int
	if err := s.queryRow(ctx, "SELECT COUNT(*) FROM stock WHERE kind = ? AND code = ?", in.Kind, in.Code).Scan(&known); err != nil {
		return nil, err
	}
	if known == 0 {
		return nil, bill.Errorf(bill.ENotFound, "%s代码 %s 没有入库记录；请核对票据代码。", StockKindName(in.Kind), in.Code)
	}
	if in.Point != "" {
		if _, err := s.Point(ctx, in.Point); err != nil {
			return nil, err
		}
	}
	w := &WriteOff{ID: uuid.Must(uuid.NewV7()).String(), Kind: in.Kind, Code: in.Code, Point: in.Point,
		From: in.From.UTC().Truncate(time.Millisecond), To: in.To.UTC().Truncate(time.Millisecond), State: DocDraft, Maker: personOf(ctx), Note: in.Note}
	if err := s.writeOffOverlap(ctx, s, w); err != nil {
		return nil, err
	}
	now := s.millis()
	f, err := s.figuresFor(ctx, w, now)
	if err != nil {
		return nil, err
	}
	w.Figures, w.CreatedAt = f, time.UnixMilli(now).UTC()
	raw, _ := json.Marshal(f)
	err = s.tx(ctx, func(t *dbtx) error {
		if err := s.writeOffOverlap(ctx, t, w); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO writeoffs (id, kind, code, point_code, period_from, period_to, state, maker, note, figures, created_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`, w.ID, w.Kind, w.Code, w.Point, w.From.UnixMilli(), w.To.UnixMilli(), w.State, w.Maker, w.Note, string(raw), now); err != nil {
			return err
		}
		return t.audit(ctx, "writeoff.draft", w.Code, map[string]any{"doc": w.ID, "kind": w.Kind, "point": w.Point, "period": w.PeriodText()})
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// writeOffOverlap refuses a period that overlaps another declaration of
// the same kind, code and scope.
func (s *Store) writeOffOverlap(ctx context.Context, q querier, w *WriteOff) error {
	other, err := scanWriteOff(q.queryRow(ctx, "SELECT "+writeOffColumns+` FROM writeoffs WHERE kind = ? AND code = ? AND point_code = ?
		AND period_from < ? AND period_to > ? AND id <> ? LIMIT 1`, w.Kind, w.Code, w.Point, w.To.UnixMilli(), w.From.UnixMilli(), w.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return bill.Errorf(bill.EConflict, "核销期间与 %s 制单的%s（%s，%s）重叠；请调整期间或处理那张申报表。",
		other.Maker, other.Title(), other.PeriodText(), other.StateName())
}

// previousWriteOff is the declaration of the chain just before w, nil
// when w is the first.
func (s *Store) previousWriteOff(ctx context.Context, w *WriteOff) (*WriteOff, error) {
	p, err := scanWriteOff(s.queryRow(ctx, "SELECT "+writeOffColumns+` FROM writeoffs WHERE kind = ? AND code = ? AND point_code = ?
		AND period_to <= ? ORDER BY period_to DESC LIMIT 1`, w.Kind, w.Code, w.Point, w.From.UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return p, err
}

// scopeOf is the selection of w's events with the given cut, after the
// previous declaration of its chain (returned too) when that is closed.
func (s *Store) scopeOf(ctx context.Context, w *WriteOff, cut int64) (scope, *WriteOff, error) {
	prev, err := s.previousWriteOff(ctx, w)
	if err != nil {
		return scope{}, nil, err
	}
	c := scope{kind: w.Kind, code: w.Code, point: w.Point, from: w.From.UnixMilli(), to: w.To.UnixMilli(), cut: cut}
	if prev != nil && prev.Closed() {
		c.prevCut = prev.CutAt.UnixMilli()
		if prev.To.Equal(w.From) {
			c.prevClosing = &prev.Figures.Closing
		}
	}
	return c, prev, nil
}

// figuresFor computes w's figures with the given cut, after the previous
// approved declaration of its chain.
func (s *Store) figuresFor(ctx context.Context, w *WriteOff, cut int64) (*WriteOffFigures, error) {
	c, prev, err := s.scopeOf(ctx, w, cut)
	if err != nil {
		return nil, err
	}
	if w.State == DocSubmitted && w.Figures != nil && w.CutAt.UnixMilli() == cut {
		// Approval recomputes at the cut of sending: the income by category,
		// read from every bill's content, cannot have changed.
		c.categories = append([]CategoryLine{}, w.Figures.Categories...)
	}
	f, err := s.writeOffFigures(ctx, s, c)
	if err != nil {
		return nil, err
	}
	switch {
	case prev != nil && !prev.Closed():
		f.Warnings = append(f.Warnings, fmt.Sprintf("上一期（%s）的申报表尚未审核：本期期初以目前账上的数据计算，上一期审核后请重新计算", prev.PeriodText()))
	case prev != nil && !prev.To.Equal(w.From):
		f.Problems = append(f.Problems, fmt.Sprintf("与上一期（%s）不连续：本期应从 %s 开始", prev.PeriodText(), prev.To.In(bill.Beijing).Format("2006-01-02")))
	}
	if f.Late.Count > 0 {
		f.Warnings = append(f.Warnings, fmt.Sprintf("其中 %d 张（%s 元）属上一期、在上一期送审后才记录，补记入本期", f.Late.Count, f.Late.Amount))
	}
	if f.LateVoids.Count > 0 {
		f.Warnings = append(f.Warnings, fmt.Sprintf("上一期已核销的 %d 张纸质票据在本期作废（补记）：%s", f.LateVoids.Count, f.LateVoids.RangesText(5)))
	}
	if err := s.periodWarnings(ctx, w, f); err != nil {
		return nil, err
	}
	return f, nil
}

// periodWarnings adds what an administrator should know before sending:
// refused uploads and stations still holding unsent bills.
func (s *Store) periodWarnings(ctx context.Context, w *WriteOff, f *WriteOffFigures) error {
	var n int64
	if w.Kind == StockEInvoice {
		if err := s.queryRow(ctx, "SELECT COUNT(*) FROM conflicts WHERE bill_code = ? AND received_at >= ? AND (? = '' OR point_code = ?)",
			w.Code, w.From.UnixMilli(), w.Point, w.Point).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			f.Warnings = append(f.Warnings, fmt.Sprintf("期间内有 %d 条上传冲突，请在“上传冲突”中核对", n))
		}
	}
	reports, err := s.StationReports(ctx)
	if err != nil {
		return err
	}
	var pending []string
	for code, r := range reports {
		if r.Pending > 0 && (w.Point == "" || w.Point == code) {
			pending = append(pending, fmt.Sprintf("%s（%d 张）", code, r.Pending))
		}
	}
	if len(pending) > 0 {
		f.Warnings = append(f.Warnings, "以下开票点尚有未上传的票据，上传后计入下一期："+strings.Join(pending, "、"))
	}
	return nil
}

// RecomputeWriteOff computes a draft's or returned declaration's figures
// again (after late uploads, or once the previous one is approved).
func (s *Store) RecomputeWriteOff(ctx context.Context, id string) (*WriteOff, error) {
	if _, err := s.authorize(ctx, PermWriteOff); err != nil {
		return nil, err
	}
	w, err := s.writeOff(ctx, s, id)
	if err != nil {
		return nil, err
	}
	if w.State != DocDraft && w.State != DocReturned {
		return nil, bill.Errorf(bill.EConflict, "申报表%s，数字已锁定，不能重新计算。", w.StateName())
	}
	now := s.millis()
	if w.Figures, err = s.figuresFor(ctx, w, now); err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(w.Figures)
	err = s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "UPDATE writeoffs SET figures = ? WHERE id = ? AND state IN ('draft', 'returned')", string(raw), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return bill.Errorf(bill.EConflict, "申报表的状态刚刚改变，请刷新页面。")
		}
		return t.audit(ctx, "writeoff.recompute", w.Code, map[string]any{"doc": id})
	})
	return w, err
}

// SubmitWriteOff sends a declaration for checking: its maker only, once
// the period has ended, after the previous declaration is approved, and
// only if the figures, computed now with this moment as the cut, hold.
func (s *Store) SubmitWriteOff(ctx context.Context, id string) (*WriteOff, error) {
	if _, err := s.authorize(ctx, PermWriteOff); err != nil {
		return nil, err
	}
	w, err := s.writeOff(ctx, s, id)
	if err != nil {
		return nil, err
	}
	switch {
	case w.Maker != personOf(ctx):
		return nil, bill.Errorf(bill.EForbidden, "申报表只能由制单人 %s 送审。", w.Maker)
	case w.State != DocDraft && w.State != DocReturned:
		return nil, bill.Errorf(bill.EConflict, "申报表%s，不能再送审。", w.StateName())
	case s.now().Before(w.To):
		return nil, bill.Errorf(bill.EConflict, "核销期间到 %s 才结束，期满后再送审。", w.To.In(bill.Beijing).Format("2006-01-02 15:04"))
	}
	prev, err := s.previousWriteOff(ctx, w)
	if err != nil {
		return nil, err
	}
	if prev != nil && !prev.Closed() {
		return nil, bill.Errorf(bill.EConflict, "上一期（%s）的申报表%s；请先完成上一期的审核。", prev.PeriodText(), prev.StateName())
	}
	cut := s.millis()
	if w.Figures, err = s.figuresFor(ctx, w, cut); err != nil {
		return nil, err
	}
	if len(w.Figures.Problems) > 0 {
		return nil, bill.Errorf(bill.EConflict, "申报表的校验未通过，不能送审：%s。", strings.Join(w.Figures.Problems, "；"))
	}
	raw, _ := json.Marshal(w.Figures)
	err = s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "UPDATE writeoffs SET state = 'submitted', figures = ?, cut_at = ?, submitted_at = ?, opinion = '' WHERE id = ? AND state IN ('draft', 'returned')",
			string(raw), cut, cut, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return bill.Errorf(bill.EConflict, "申报表的状态刚刚改变，请刷新页面。")
		}
		return t.audit(ctx, "writeoff.submit", w.Code, map[string]any{"doc": id, "used": w.Figures.Used, "net": w.Figures.Net})
	})
	if err != nil {
		return nil, err
	}
	w.State, w.CutAt, w.SubmittedAt = DocSubmitted, time.UnixMilli(cut).UTC(), time.UnixMilli(cut).UTC()
	return w, nil
}

// DecideWriteOff approves a sent declaration — its figures are computed
// again with the same cut and must still hold; the period is closed — or
// returns it with an opinion. The checker may not be the maker.
func (s *Store) DecideWriteOff(ctx context.Context, id string, approve bool, opinion string) (*WriteOff, error) {
	if _, err := s.authorize(ctx, PermStockApprove); err != nil {
		return nil, err
	}
	opinion = strings.TrimSpace(opinion)
	if !approve && opinion == "" {
		return nil, bill.Errorf(bill.EInvalid, "退回申报表请填写审核意见，告诉制单人要改什么。")
	}
	if utf8.RuneCountInString(opinion) > 200 {
		return nil, bill.Errorf(bill.EInvalid, "审核意见不超过 200 个字。")
	}
	w, err := s.writeOff(ctx, s, id)
	if err != nil {
		return nil, err
	}
	who := personOf(ctx)
	switch {
	case w.Maker == who:
		return nil, bill.Errorf(bill.EForbidden, "不能审核自己制单的申报表；请由另一位票据审核员审核。")
	case w.State != DocSubmitted:
		return nil, bill.Errorf(bill.EConflict, "申报表%s，只有已送审的申报表可以审核。", w.StateName())
	}
	state, action, raw := DocReturned, "writeoff.return", []byte(nil)
	if approve {
		state, action = DocApproved, "writeoff.approve"
		f, err := s.figuresFor(ctx, w, w.CutAt.UnixMilli())
		if err != nil {
			return nil, err
		}
		if len(f.Problems) > 0 {
			return nil, bill.Errorf(bill.EConflict, "重新计算的数字未通过校验，不能审核：%s；请退回制单人。", strings.Join(f.Problems, "；"))
		}
		if f.Used != w.Figures.Used || f.Net != w.Figures.Net || f.Closing.Count != w.Figures.Closing.Count {
			return nil, bill.Errorf(bill.EConflict, "按送审时点重新计算的数字与送审的不同（已用 %d / %d）；请退回制单人重新送审。", f.Used, w.Figures.Used)
		}
		w.Figures = f
		raw, _ = json.Marshal(f)
	}
	err = s.tx(ctx, func(t *dbtx) error {
		now := s.millis()
		q, args := "UPDATE writeoffs SET state = ?, checker = ?, opinion = ?, decided_at = ?", []any{state, who, opinion, now}
		if approve {
			q, args = q+", figures = ?", append(args, string(raw))
		} else {
			q += ", cut_at = NULL"
		}
		res, err := t.exec(ctx, q+" WHERE id = ? AND state = 'submitted'", append(args, id)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return bill.Errorf(bill.EConflict, "申报表的状态刚刚改变，请刷新页面。")
		}
		w.State, w.Checker, w.Opinion, w.DecidedAt = state, who, opinion, time.UnixMilli(now).UTC()
		return t.audit(ctx, action, w.Code, map[string]any{"doc": id, "opinion": opinion})
	})
	return w, err
}

// UnapproveWriteOff withdraws an approval (反审核), reopening the period:
// a checker, with a reason, only for the last approved declaration of its
// chain and before it is reported.
func (s *Store) UnapproveWriteOff(ctx context.Context, id, reason string) (*WriteOff, error) {
	if _, err := s.authorize(ctx, PermStockApprove); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return nil, bill.Errorf(bill.EInvalid, "反审核请填写原因（不超过 200 个字）。")
	}
	w, err := s.writeOff(ctx, s, id)
	if err != nil {
		return nil, err
	}
	if w.State != DocApproved {
		return nil, bill.Errorf(bill.EConflict, "申报表%s，只有已审核、未上报的申报表可以反审核。", w.StateName())
	}
	var later int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM writeoffs WHERE kind = ? AND code = ? AND point_code = ? AND period_from >= ?
		AND state IN ('submitted', 'approved', 'reported')`, w.Kind, w.Code, w.Point, w.To.UnixMilli()).Scan(&later); err != nil {
		return nil, err
	}
	if later > 0 {
		return nil, bill.Errorf(bill.EConflict, "后面的期间已送审或已审核，本期不能反审核；请先处理后面的申报表。")
	}
	err = s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "UPDATE writeoffs SET state = 'submitted', checker = ?, opinion = ?, decided_at = ? WHERE id = ? AND state = 'approved'",
			personOf(ctx), "反审核："+reason, s.millis(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return bill.Errorf(bill.EConflict, "申报表的状态刚刚改变，请刷新页面。")
		}
		w.State, w.Opinion = DocSubmitted, "反审核："+reason
		return t.audit(ctx, "writeoff.unapprove", w.Code, map[string]any{"doc": id, "reason": reason})
	})
	return w, err
}

// ReportWriteOff records that an approved declaration was reported to the
// finance bureau (已上报); it can no longer be withdrawn.
func (s *Store) ReportWriteOff(ctx context.Context, id string) error {
	if _, err := s.authorize(ctx, PermWriteOff); err != nil {
		return err
	}
	return s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "UPDATE writeoffs SET state = 'reported' WHERE id = ? AND state = 'approved'", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return bill.Errorf(bill.EConflict, "只有已审核的申报表可以标记为已上报。")
		}
		return t.audit(ctx, "writeoff.report", id, nil)
	})
}

// DeleteWriteOff removes a draft or returned declaration of the maker's.
func (s *Store) DeleteWriteOff(ctx context.Context, id string) error {
	if _, err := s.authorize(ctx, PermWriteOff); err != nil {
		return err
	}
	return s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "DELETE FROM writeoffs WHERE id = ? AND maker = ? AND state IN ('draft', 'returned')", id, personOf(ctx))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return bill.Errorf(bill.EConflict, "只能删除自己的草稿或被退回的申报表。")
		}
		return t.audit(ctx, "writeoff.delete", id, nil)
	})
}

const writeOffColumns = `id, kind, code, point_code, period_from, period_to, state, maker, checker, opinion, note, figures,
	cut_at, created_at, submitted_at, decided_at`

func scanWriteOff(r interface{ Scan(...any) error }) (*WriteOff, error) {
	var w WriteOff
	var from, to, created int64
	var cut, submitted, decided sql.NullInt64
	var figures string
	if err := r.Scan(&w.ID, &w.Kind, &w.Code, &w.Point, &from, &to, &w.State, &w.Maker, &w.Checker, &w.Opinion, &w.Note, &figures,
		&cut, &created, &submitted, &decided); err != nil {
		return nil, err
	}
	w.Figures = &WriteOffFigures{}
	if err := json.Unmarshal([]byte(figures), w.Figures); err != nil {
		return nil, fmt.Errorf("server: decode write-off figures: %w", err)
	}
	at := func(v sql.NullInt64) time.Time {
		if !v.Valid {
			return time.Time{}
		}
		return time.UnixMilli(v.Int64).UTC()
	}
	w.From, w.To, w.CreatedAt = time.UnixMilli(from).UTC(), time.UnixMilli(to).UTC(), time.UnixMilli(created).UTC()
	w.CutAt, w.SubmittedAt, w.DecidedAt = at(cut), at(submitted), at(decided)
	return &w, nil
}

func (s *Store) writeOff(ctx context.Context, q querier, id string) (*WriteOff, error) {
	w, err := scanWriteOff(q.queryRow(ctx, "SELECT "+writeOffColumns+" FROM writeoffs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "没有这张核销申报表；请刷新页面。")
	}
	return w, err
}

// WriteOff returns one declaration.
func (s *Store) WriteOff(ctx context.Context, id string) (*WriteOff, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	return s.writeOff(ctx, s, id)
}

// WriteOffQuery filters the declarations: kind, code, state, and periods
// that overlap [From, To) when set.
type WriteOffQuery struct {
	Kind, Code, State string
	From, To          time.Time
}

// WriteOffs lists declarations, the latest period first (at most 500).
func (s *Store) WriteOffs(ctx context.Context, f WriteOffQuery) ([]WriteOff, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	q, args := " WHERE 1 = 1", []any{}
	for _, c := range []struct{ col, v string }{{"kind", f.Kind}, {"code", f.Code}, {"state", f.State}} {
		if c.v != "" {
			q, args = q+" AND "+c.col+" = ?", append(args, c.v)
		}
	}
	if !f.From.IsZero() {
		q, args = q+" AND period_to > ?", append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		q, args = q+" AND period_from < ?", append(args, f.To.UnixMilli())
	}
	rows, err := s.query(ctx, "SELECT "+writeOffColumns+" FROM writeoffs"+q+" ORDER BY period_from DESC, code, point_code LIMIT 500", args...)
	return collect(rows, err, scanWriteOff)
}
