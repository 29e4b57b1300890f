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
	"github.com/ebill/ebill/sync/wire"
)

// 数据修正 (console.md): a bill administrator requests a correction — its
// kind, target, reason, evidence and the proposed change; a checker who is
// not the maker approves it, and the system carries it out in that step,
// or returns it with an opinion. Bills are never edited: a wrong bill
// becomes a red bill and a reissued bill linked to the request. A charge
// item or a paper record is changed with before and after kept. Each step
// is audited, with the request's id.

// Correction kinds.
const (
	CorrectBill  = "bill"  // target: bill code and number
	CorrectItem  = "item"  // target: charge item code
	CorrectPaper = "paper" // target: paper code and number
)

// CorrectionKindNames are the kinds as users read them.
var CorrectionKindNames = map[string]string{CorrectBill: "票据信息有误（红冲并重开）", CorrectItem: "收费项目", CorrectPaper: "纸质票据记录"}

// DocDone is a correction carried out.
const DocDone = "done"

// Proposal is the change a request proposes: for a bill, the fields to
// correct (an empty one is kept); for a charge item, its new name, unit,
// price and whether it is disabled; for a paper record, its new state
// (voided or blank_void).
type Proposal struct {
	Payer     string `json:"payer,omitempty"`
	PatientNo string `json:"patientNo,omitempty"`
	Remark    string `json:"remark,omitempty"`
	Tel       string `json:"tel,omitempty"`
	Point     string `json:"point,omitempty"` // the server point that reissues; default the bill's own or the first

	Name     string `json:"name,omitempty"`
	Unit     string `json:"unit,omitempty"`
	Price    string `json:"price,omitempty"`
	Disabled *bool  `json:"disabled,omitempty"`

	PaperState string `json:"paperState,omitempty"`
}

// apply puts a bill correction's fields on a settlement.
func (p Proposal) apply(st *bill.Settlement) {
	for _, f := range []struct {
		to   *bill.Text
		from string
	}{{&st.Payer, p.Payer}, {&st.PatientNo, p.PatientNo}, {&st.Remark, p.Remark}, {&st.Tel, p.Tel}} {
		if f.from != "" {
			*f.to = bill.Text(f.from)
		}
	}
}

// Correction is one request.
type Correction struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Target    string    `json:"target"`
	Reason    string    `json:"reason"`
	Evidence  string    `json:"evidence"`
	Proposal  Proposal  `json:"proposal"`
	State     string    `json:"state"`
	Maker     string    `json:"maker"`
	Checker   string    `json:"checker"`
	Opinion   string    `json:"opinion"`
	Before    string    `json:"before"`
	After     string    `json:"after"`
	Result    string    `json:"result"`
	CreatedAt time.Time `json:"createdAt"`
	DecidedAt time.Time `json:"decidedAt"`
}

// KindName is the kind in Chinese.
func (c *Correction) KindName() string { return CorrectionKindNames[c.Kind] }

// StateName is the state in Chinese.
func (c *Correction) StateName() string {
	if c.State == DocDone {
		return "已执行"
	}
	return DocStateNames[c.State]
}

// ProposalText is the proposed change as people read it.
func (c *Correction) ProposalText() string {
	p := c.Proposal
	var parts []string
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, label+"改为“"+v+"”")
		}
	}
	add("交款人", p.Payer)
	add("患者编号", p.PatientNo)
	add("备注", p.Remark)
	add("电话", bill.MaskPhone(p.Tel))
	add("名称", p.Name)
	add("单位", p.Unit)
	add("单价", p.Price)
	if p.Disabled != nil {
		parts = append(parts, map[bool]string{true: "停用", false: "启用"}[*p.Disabled])
	}
	add("状态", map[string]string{wire.PaperVoided: "作废", wire.PaperBlankVoid: "空白作废"}[p.PaperState])
	return strings.Join(parts, "，")
}

// targetNo splits "code number" (a space, or none between an 8-digit code
// and the number).
func targetNo(target string) (string, int64, error) {
	f := strings.Fields(target)
	if len(f) == 1 && len(f[0]) > 8 {
		f = []string{f[0][:8], f[0][8:]}
	}
	if len(f) != 2 {
		return "", 0, bill.Errorf(bill.EInvalid, "请按“票据代码 号码”填写修正对象，如 35060126 0000000001。")
	}
	no, err := bill.ParseBillNo(f[1])
	if err != nil {
		return "", 0, err
	}
	return f[0], no, nil
}

// RequestCorrection records a request, sent for checking at once; the
// target must exist and the change be possible now.
func (s *Store) RequestCorrection(ctx context.Context, kind, target, reason, evidence string, p Proposal) (*Correction, error) {
	if _, err := s.authorize(ctx, PermCorrect); err != nil {
		return nil, err
	}
	c := &Correction{ID: uuid.Must(uuid.NewV7()).String(), Kind: kind, Target: strings.TrimSpace(target), Reason: strings.TrimSpace(reason),
		Evidence: strings.TrimSpace(evidence), Proposal: p, State: DocSubmitted, Maker: personOf(ctx)}
	switch {
	case CorrectionKindNames[kind] == "":
		return nil, bill.Errorf(bill.EInvalid, "请选择修正类别。")
	case c.Reason == "" || utf8.RuneCountInString(c.Reason) > 200:
		return nil, bill.Errorf(bill.EInvalid, "请填写修正原因（不超过 200 个字）。")
	case utf8.RuneCountInString(c.Evidence) > 500:
		return nil, bill.Errorf(bill.EInvalid, "依据说明不超过 500 个字。")
	case c.ProposalText() == "":
		return nil, bill.Errorf(bill.EInvalid, "请填写要改成什么。")
	}
	if _, _, err := s.planCorrection(ctx, c); err != nil {
		return nil, err
	}
	stored := c.Proposal
	stored.Tel = s.sealText(stored.Tel, "correction:"+c.ID) // a phone number is personal data (DC-2)
	raw, _ := json.Marshal(stored)
	now := s.millis()
	c.CreatedAt = time.UnixMilli(now).UTC()
	err := s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, `INSERT INTO corrections (id, kind, target, reason, evidence, proposal, state, maker, created_at) VALUES (?,?,?,?,?,?,?,?,?)`,
			c.ID, c.Kind, c.Target, c.Reason, c.Evidence, string(raw), c.State, c.Maker, now); err != nil {
			return err
		}
		return t.audit(ctx, "correction.request", c.Target, map[string]any{"id": c.ID, "kind": c.Kind, "reason": c.Reason, "change": c.ProposalText()})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// planCorrection checks the request against the ledger now and returns
// what it changes from and to (as JSON).
func (s *Store) planCorrection(ctx context.Context, c *Correction) (before, after any, err error) {
	p := c.Proposal
	switch c.Kind {
	case CorrectBill:
		code, no, err := targetNo(c.Target)
		if err != nil {
			return nil, nil, err
		}
		lb, err := s.LedgerBill(ctx, code, no)
		if err != nil {
			return nil, nil, err
		}
		if lb.RedOf != "" || lb.Kind == bill.Deposit {
			return nil, nil, bill.Errorf(bill.EInvalid, "票据 %s %s 是红字票据或预交金凭证，不能这样修正。", code, lb.BillNo)
		}
		if rev, err := s.IsReversed(ctx, lb.ID); err != nil {
			return nil, nil, err
		} else if rev {
			return nil, nil, bill.Errorf(bill.EAlreadyReversed, "票据 %s %s 已冲红，不能再修正。", code, lb.BillNo)
		}
		st := lb.Bill.Settlement.Clone()
		old := map[string]string{"payer": string(st.Payer), "patientNo": string(st.PatientNo), "remark": string(st.Remark), "tel": bill.MaskPhone(string(st.Tel))}
		p.apply(st)
		st.Normalize()
		if err := st.Validate(lb.Kind); err != nil {
			return nil, nil, err
		}
		return old, map[string]string{"payer": string(st.Payer), "patientNo": string(st.PatientNo), "remark": string(st.Remark), "tel": bill.MaskPhone(string(st.Tel))}, nil
	case CorrectItem:
		items, err := s.ChargeItems(ctx, c.Target, 50)
		if err != nil {
			return nil, nil, err
		}
		for _, it := range items {
			if it.Code != c.Target {
				continue
			}
			nw := it
			if p.Name != "" {
				nw.Name = p.Name
			}
			if p.Unit != "" {
				nw.Unit = p.Unit
			}
			if p.Price != "" {
				price, err := bill.ParseMoney4(p.Price)
				if err != nil || price < 0 {
					return nil, nil, bill.Errorf(bill.EInvalid, "单价“%s”不正确。", Truncate(p.Price, 20))
				}
				nw.Price = price
			}
			if p.Disabled != nil {
				nw.Disabled = *p.Disabled
			}
			return it, nw, nil
		}
		return nil, nil, bill.Errorf(bill.ENotFound, "没有编码为 %s 的收费项目。", Truncate(c.Target, 30))
	case CorrectPaper:
		code, no, err := targetNo(c.Target)
		if err != nil {
			return nil, nil, err
		}
		var status, point, billID string
		err = s.queryRow(ctx, "SELECT status, point_code, COALESCE(bill_id, '') FROM paper_usage WHERE paper_code = ? AND paper_no = ?", code, no).
			Scan(&status, &point, &billID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, bill.Errorf(bill.ENotFound, "纸质票据 %s %s 没有使用记录；未使用的空白票据请用“空白票据作废”。", code, bill.FormatBillNo(no))
		}
		if err != nil {
			return nil, nil, err
		}
		switch {
		case p.PaperState != wire.PaperVoided && p.PaperState != wire.PaperBlankVoid:
			return nil, nil, bill.Errorf(bill.EInvalid, "纸质票据记录只能改为作废或空白作废。")
		case status != wire.PaperPrinted:
			return nil, nil, bill.Errorf(bill.EConflict, "纸质票据 %s %s 已是作废状态，无需修正。", code, bill.FormatBillNo(no))
		}
		// A sheet recorded as printed for a bill but never printed becomes a
		// blank void, and the bill loses its paper copy.
		_ = billID
		return map[string]string{"status": status, "point": point}, map[string]string{"status": p.PaperState, "point": point}, nil
	}
	return nil, nil, bill.Errorf(bill.EInvalid, "请选择修正类别。")
}

// DecideCorrection approves a request — and carries it out — or returns it
// with an opinion. The checker may not be the maker.
func (s *Store) DecideCorrection(ctx context.Context, id string, approve bool, opinion string) (*Correction, error) {
	if _, err := s.authorize(ctx, PermStockApprove); err != nil {
		return nil, err
	}
	opinion = strings.TrimSpace(opinion)
	if (!approve && opinion == "") || utf8.RuneCountInString(opinion) > 200 {
		return nil, bill.Errorf(bill.EInvalid, "退回请填写审核意见（不超过 200 个字）。")
	}
	c, err := s.Correction(ctx, id)
	if err != nil {
		return nil, err
	}
	who := personOf(ctx)
	switch {
	case c.Maker == who:
		return nil, bill.Errorf(bill.EForbidden, "不能审批自己提出的修正申请；请由另一位票据审核员审批。")
	case c.State != DocSubmitted:
		return nil, bill.Errorf(bill.EConflict, "修正申请%s，只有已送审的可以审批。", c.StateName())
	}
	if !approve {
		err := s.tx(ctx, func(t *dbtx) error {
			res, err := t.exec(ctx, "UPDATE corrections SET state = 'returned', checker = ?, opinion = ?, decided_at = ? WHERE id = ? AND state = 'submitted'",
				who, opinion, s.millis(), id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return bill.Errorf(bill.EConflict, "修正申请的状态刚刚改变，请刷新页面。")
			}
			return t.audit(ctx, "correction.return", c.Target, map[string]any{"id": id, "opinion": opinion})
		})
		c.State, c.Checker, c.Opinion = DocReturned, who, opinion
		return c, err
	}
	// Claim the request first, so that two checkers cannot carry it out twice.
	if err := s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "UPDATE corrections SET state = 'approved', checker = ?, opinion = ?, decided_at = ? WHERE id = ? AND state = 'submitted'",
			who, opinion, s.millis(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return bill.Errorf(bill.EConflict, "修正申请的状态刚刚改变，请刷新页面。")
		}
		return t.audit(ctx, "correction.approve", c.Target, map[string]any{"id": id, "opinion": opinion})
	}); err != nil {
		return nil, err
	}
	c.Checker, c.Opinion = who, opinion
	result, before, after, err := s.carryOut(ctx, c)
	if err != nil {
		// Nothing was changed: the request goes back to the checkers.
		s.tx(ctx, func(t *dbtx) error {
			if _, err := t.exec(ctx, "UPDATE corrections SET state = 'submitted', checker = '', opinion = ? WHERE id = ?",
				"执行失败："+Truncate(bill.ErrorMessage(err), 150), id); err != nil {
				return err
			}
			return t.audit(ctx, "correction.failed", c.Target, map[string]any{"id": id, "error": bill.ErrorMessage(err)})
		})
		return nil, err
	}
	b, _ := json.Marshal(before)
	a, _ := json.Marshal(after)
	err = s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, "UPDATE corrections SET state = 'done', before_data = ?, after_data = ?, result = ? WHERE id = ?",
			string(b), string(a), result, id); err != nil {
			return err
		}
		return t.audit(ctx, "correction.done", c.Target, map[string]any{"id": id, "result": result})
	})
	c.State, c.Before, c.After, c.Result = DocDone, string(b), string(a), result
	return c, err
}

// carryOut makes the change, as the system acting for the request.
func (s *Store) carryOut(ctx context.Context, c *Correction) (result string, before, after any, err error) {
	before, after, err = s.planCorrection(ctx, c)
	if err != nil {
		return "", nil, nil, err
	}
	sys := WithActor(ctx, Actor{Who: "correction:" + c.ID + " (" + c.Maker + "/" + c.Checker + ")", From: actorOf(ctx).From, System: true})
	p := c.Proposal
	switch c.Kind {
	case CorrectBill:
		code, no, _ := targetNo(c.Target)
		lb, err := s.LedgerBill(ctx, code, no)
		if err != nil {
			return "", nil, nil, err
		}
		point, err := s.correctionPoint(ctx, lb.Point, p.Point)
		if err != nil {
			return "", nil, nil, err
		}
		red, err := s.ReverseAt(sys, point, code, no, "数据修正："+c.Reason, c.Checker)
		if err != nil {
			return "", nil, nil, err
		}
		st := lb.Bill.Settlement.Clone()
		p.apply(st)
		// One BusNo, one bill: the reissue carries its own, and names the
		// original in 业务票据关联号.
		suffix := "-XZ" + strings.ReplaceAll(c.ID, "-", "")[24:]
		st.BusNo = bill.Text(Truncate(string(st.BusNo), 50-len(suffix)) + suffix)
		st.EBillRelateNo = bill.Text(code + bill.FormatBillNo(no))
		st.PlaceCode = bill.Text(point)
		re, err := s.IssueAt(sys, point, lb.Kind, st)
		if err != nil {
			return "", nil, nil, fmt.Errorf("红票 %s %s 已开具，重开失败：%w", red.BillCode, red.BillNo, err)
		}
		result = fmt.Sprintf("原票 %s %s 已红冲（红票 %s %s），重开票据 %s %s（业务流水号 %s）", code, lb.BillNo, red.BillCode, red.BillNo,
			re.BillCode, re.BillNo, st.BusNo)
		return result, before, after, nil
	case CorrectItem:
		nw := after.(ChargeItemInfo)
		if err := s.SetChargeItem(sys, nw); err != nil {
			return "", nil, nil, err
		}
		return "收费项目 " + nw.Code + " 已修改，收费电脑同步后生效", before, after, nil
	default:
		code, no, _ := targetNo(c.Target)
		now := s.millis()
		err := s.tx(ctx, func(t *dbtx) error {
			res, err := t.exec(ctx, `UPDATE paper_usage SET status = ?, voided_at = ?, void_rec_at = ?, reason = ?,
				bill_id = CASE WHEN ? = 'blank_void' THEN NULL ELSE bill_id END WHERE paper_code = ? AND paper_no = ? AND status = 'printed'`,
				p.PaperState, now, now, "数据修正："+Truncate(c.Reason, 100), p.PaperState, code, no)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return bill.Errorf(bill.EConflict, "纸质票据 %s %s 的状态刚刚改变，请重新申请。", code, bill.FormatBillNo(no))
			}
			return t.audit(sys, "paper.correct", code, map[string]any{"no": no, "to": p.PaperState, "correction": c.ID})
		})
		if err != nil {
			return "", nil, nil, err
		}
		return fmt.Sprintf("纸质票据 %s %s 已改为%s，计入当前核销期间", code, bill.FormatBillNo(no),
			map[string]string{wire.PaperVoided: "作废", wire.PaperBlankVoid: "空白作废"}[p.PaperState]), before, after, nil
	}
}

// correctionPoint is the server point a bill's correction is issued at:
// the one asked for, else the bill's own when it is a server point, else
// the first enabled server point.
func (s *Store) correctionPoint(ctx context.Context, own, asked string) (string, error) {
	points, err := s.Points(ctx)
	if err != nil {
		return "", err
	}
	var first string
	for _, p := range points {
		if p.Kind != PointServer || !p.DisabledAt.IsZero() {
			continue
		}
		if p.Code == asked || (asked == "" && p.Code == own) {
			return p.Code, nil
		}
		if first == "" {
			first = p.Code
		}
	}
	if asked != "" {
		return "", bill.Errorf(bill.ENotFound, "开票点 %s 不是可用的服务器开票点。", Truncate(asked, 20))
	}
	if first == "" {
		return "", bill.Errorf(bill.ENoStock, "没有可用的服务器开票点来开具修正票据；请系统管理员先建立一个服务器开票点。")
	}
	return first, nil
}

const correctionColumns = `id, kind, target, reason, evidence, proposal, state, maker, checker, opinion, before_data, after_data, result, created_at, decided_at`

func (s *Store) scanCorrection(r interface{ Scan(...any) error }) (*Correction, error) {
	var c Correction
	var proposal string
	var created int64
	var decided sql.NullInt64
	if err := r.Scan(&c.ID, &c.Kind, &c.Target, &c.Reason, &c.Evidence, &proposal, &c.State, &c.Maker, &c.Checker, &c.Opinion,
		&c.Before, &c.After, &c.Result, &created, &decided); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(proposal), &c.Proposal); err != nil {
		return nil, fmt.Errorf("server: decode correction: %w", err)
	}
	c.Proposal.Tel = s.openText(c.Proposal.Tel, "correction:"+c.ID)
	c.CreatedAt = time.UnixMilli(created).UTC()
	if decided.Valid {
		c.DecidedAt = time.UnixMilli(decided.Int64).UTC()
	}
	return &c, nil
}

// Correction returns one request.
func (s *Store) Correction(ctx context.Context, id string) (*Correction, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	c, err := s.scanCorrection(s.queryRow(ctx, "SELECT "+correctionColumns+" FROM corrections WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "没有这条修正申请；请刷新页面。")
	}
	return c, err
}

// Corrections lists the requests, newest first, of one state when given
// (at most 500): 修正记录.
func (s *Store) Corrections(ctx context.Context, state string) ([]Correction, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, "SELECT "+correctionColumns+" FROM corrections WHERE ? = '' OR state = ? ORDER BY created_at DESC, id DESC LIMIT 500", state, state)
	return collect(rows, err, s.scanCorrection)
}
