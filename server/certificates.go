package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
)

// 领用证 (console.md): the finance bureau's bill purchase certificates.
// Once a certificate is registered, every stock intake names a registered,
// enabled, valid one that covers its bill code; its 领/销 ledger is read
// from the approved intakes and the numbers used and voided under them.

// Certificate is one 领用证.
type Certificate struct {
	ID          string   `json:"id"`
	No          string   `json:"certNo"`      // 证号
	Name        string   `json:"name"`        // 名称
	Unit        string   `json:"unit"`        // 所属单位
	IssuedOn    string   `json:"issuedOn"`    // 办证日期 yyyy-MM-dd
	ValidTo     string   `json:"validTo"`     // 有效期至
	InspectedOn string   `json:"inspectedOn"` // 最近年检
	LegalNo     string   `json:"legalNo"`     // 单位法人证号
	LicenseNo   string   `json:"licenseNo"`   // 收费许可证号
	Address     string   `json:"address"`
	Contact     string   `json:"contact"`
	Phone       string   `json:"phone"`
	FinanceHead string   `json:"financeHead"` // 财务负责人
	Handler     string   `json:"handler"`     // 经办人
	Codes       []string `json:"codes"`       // the bill codes it covers
	Enabled     bool     `json:"enabled"`
	Note        string   `json:"note"`
}

// NextInspection is when the yearly inspection (年检) is due: a year after
// the last one, or after the certificate was issued.
func (c *Certificate) NextInspection() time.Time {
	from := c.InspectedOn
	if from == "" {
		from = c.IssuedOn
	}
	t, err := time.ParseInLocation("2006-01-02", from, bill.Beijing)
	if err != nil {
		return time.Time{}
	}
	return t.AddDate(1, 0, 0)
}

// Expires is the first moment the certificate is no longer valid.
func (c *Certificate) Expires() time.Time {
	t, err := time.ParseInLocation("2006-01-02", c.ValidTo, bill.Beijing)
	if err != nil {
		return time.Time{}
	}
	return t.AddDate(0, 0, 1)
}

// CodesText lists the covered codes.
func (c *Certificate) CodesText() string { return strings.Join(c.Codes, "、") }

func checkDate(label, s string, required bool) error {
	if s == "" && !required {
		return nil
	}
	if _, err := time.ParseInLocation("2006-01-02", s, bill.Beijing); err != nil {
		return bill.Errorf(bill.EInvalid, "%s“%s”应为 2026-12-01 这样的年-月-日。", label, Truncate(s, 20))
	}
	return nil
}

// SaveCertificate registers a certificate or changes one (by ID).
func (s *Store) SaveCertificate(ctx context.Context, c Certificate) (*Certificate, error) {
	if _, err := s.authorize(ctx, PermStockReceive); err != nil {
		return nil, err
	}
	c.No, c.Name = strings.TrimSpace(c.No), strings.TrimSpace(c.Name)
	if c.No == "" || c.Name == "" || utf8.RuneCountInString(c.No) > 50 || utf8.RuneCountInString(c.Name) > 100 {
		return nil, bill.Errorf(bill.EInvalid, "请填写证号（不超过 50 字）和名称（不超过 100 字）。")
	}
	for _, f := range []struct {
		label, v string
		req      bool
	}{{"办证日期", c.IssuedOn, true}, {"有效期至", c.ValidTo, true}, {"年检日期", c.InspectedOn, false}} {
		if err := checkDate(f.label, f.v, f.req); err != nil {
			return nil, err
		}
	}
	if c.ValidTo < c.IssuedOn {
		return nil, bill.Errorf(bill.EInvalid, "有效期至 %s 早于办证日期 %s。", c.ValidTo, c.IssuedOn)
	}
	var codes []string
	for _, code := range c.Codes {
		code = strings.TrimSpace(code)
		if code == "" || slices.Contains(codes, code) {
			continue
		}
		if bill.CheckBillCode(code) != nil && bill.CheckPaperCode(code) != nil {
			return nil, bill.Errorf(bill.EInvalid, "“%s”不是票据代码（8 位数字）。", Truncate(code, 20))
		}
		codes = append(codes, code)
	}
	if len(codes) == 0 {
		return nil, bill.Errorf(bill.EInvalid, "请填写领用证适用的票据代码（可填多个，用逗号分隔）。")
	}
	c.Codes = codes
	for _, v := range []string{c.Unit, c.LegalNo, c.LicenseNo, c.Address, c.Contact, c.Phone, c.FinanceHead, c.Handler, c.Note} {
		if utf8.RuneCountInString(v) > 200 {
			return nil, bill.Errorf(bill.EInvalid, "每一项不超过 200 个字。")
		}
	}
	isNew := c.ID == ""
	if isNew {
		c.ID = uuid.Must(uuid.NewV7()).String()
	}
	err := s.tx(ctx, func(t *dbtx) error {
		var args = []any{c.No, c.Name, c.Unit, c.IssuedOn, c.ValidTo, c.InspectedOn, c.LegalNo, c.LicenseNo, c.Address, c.Contact,
			s.sealText(c.Phone, "certificate:"+c.ID), c.FinanceHead, c.Handler, strings.Join(c.Codes, ","), boolInt(c.Enabled), c.Note, s.millis()}
		action := "certificate.update"
		if isNew {
			action = "certificate.add"
			if _, err := t.exec(ctx, `INSERT INTO certificates (cert_no, name, unit, issued_on, valid_to, inspected_on, legal_no, license_no,
				address, contact, phone, finance_head, handler, codes, enabled, note, updated_at, id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
				append(args, c.ID)...); err != nil {
				return err
			}
		} else {
			res, err := t.exec(ctx, `UPDATE certificates SET cert_no = ?, name = ?, unit = ?, issued_on = ?, valid_to = ?, inspected_on = ?,
				legal_no = ?, license_no = ?, address = ?, contact = ?, phone = ?, finance_head = ?, handler = ?, codes = ?, enabled = ?, note = ?,
				updated_at = ? WHERE id = ?`, append(args, c.ID)...)
			if err != nil {
				return err
			}
			if err := mustAffect(res, "领用证"); err != nil {
				return err
			}
		}
		logged := c
		logged.Phone = bill.MaskPhone(c.Phone)
		return t.audit(ctx, action, c.No, logged)
	})
	if errors.Is(err, ErrConflict) {
		return nil, bill.Errorf(bill.EConflict, "证号 %s 已登记。", c.No)
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

const certCols = `id, cert_no, name, unit, issued_on, valid_to, inspected_on, legal_no, license_no, address, contact, phone,
	finance_head, handler, codes, enabled, note`

func (s *Store) scanCert(r interface{ Scan(...any) error }) (*Certificate, error) {
	var c Certificate
	var codes string
	var enabled int
	if err := r.Scan(&c.ID, &c.No, &c.Name, &c.Unit, &c.IssuedOn, &c.ValidTo, &c.InspectedOn, &c.LegalNo, &c.LicenseNo, &c.Address,
		&c.Contact, &c.Phone, &c.FinanceHead, &c.Handler, &codes, &enabled, &c.Note); err != nil {
		return nil, err
	}
	c.Codes, c.Enabled = strings.Split(codes, ","), enabled != 0
	c.Phone = s.openText(c.Phone, "certificate:"+c.ID)
	return &c, nil
}

// Certificates lists the certificates, by number.
func (s *Store) Certificates(ctx context.Context) ([]Certificate, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	return s.certificates(ctx)
}

func (s *Store) certificates(ctx context.Context) ([]Certificate, error) {
	rows, err := s.query(ctx, "SELECT "+certCols+" FROM certificates ORDER BY cert_no")
	return collect(rows, err, s.scanCert)
}

// Certificate is one certificate by ID.
func (s *Store) Certificate(ctx context.Context, id string) (*Certificate, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	c, err := s.scanCert(s.queryRow(ctx, "SELECT "+certCols+" FROM certificates WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "没有这张领用证；请刷新页面。")
	}
	return c, err
}

// checkCertificate is the rule of an intake's certificate: with none
// registered, any text (or none); else a registered, enabled certificate,
// valid today, covering the code.
func (s *Store) checkCertificate(ctx context.Context, q querier, no, code string) error {
	var n int
	if err := q.queryRow(ctx, "SELECT COUNT(*) FROM certificates").Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	if no == "" {
		return bill.Errorf(bill.EInvalid, "请填写领用证号：入库须注明所依据的领用证（在“领用证”中登记）。")
	}
	c, err := s.scanCert(q.queryRow(ctx, "SELECT "+certCols+" FROM certificates WHERE cert_no = ?", no))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return bill.Errorf(bill.EInvalid, "领用证 %s 未登记；请先在“领用证”中登记，或核对证号。", Truncate(no, 50))
	case err != nil:
		return err
	case !c.Enabled:
		return bill.Errorf(bill.EConflict, "领用证 %s 已停用。", no)
	case !s.now().Before(c.Expires()):
		return bill.Errorf(bill.EConflict, "领用证 %s 已于 %s 到期，请先办理换证。", no, c.ValidTo)
	case !slices.Contains(c.Codes, code):
		return bill.Errorf(bill.EConflict, "领用证 %s 不包括票据代码 %s（包括：%s）。", no, code, c.CodesText())
	}
	return nil
}

// LedgerLine is one line of a certificate's 领/销 ledger.
type LedgerLine struct {
	At       time.Time `json:"at"`
	What     string    `json:"what"` // 领, 销
	Code     string    `json:"code"`
	Start    int64     `json:"start"`
	End      int64     `json:"end"`
	Count    int64     `json:"count"`
	Operator string    `json:"operator"`
	Checker  string    `json:"checker"`
}

// CertLedger is a certificate's ledger and its totals.
type CertLedger struct {
	Lines      []LedgerLine `json:"lines"`
	Received   int64        `json:"received"`   // 累计领用
	WrittenOff int64        `json:"writtenOff"` // 累计核销: the numbers closed write-off declarations accounted for
	Used       int64        `json:"used"`       // numbers used: bills issued, paper printed
	Voided     int64        `json:"voided"`     // paper voided, printed or blank
	Balance    int64        `json:"balance"`    // 当期结存: received − used − voided
}

// CertificateLedger reads a certificate's ledger: each approved intake
// naming it (领), and what became of those numbers.
func (s *Store) CertificateLedger(ctx context.Context, id string) (*Certificate, *CertLedger, error) {
	c, err := s.Certificate(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.query(ctx, `SELECT d.kind, d.code, d.start_no, d.end_no, d.maker, d.checker, d.decided_at FROM stock_docs d
		WHERE d.certificate = ? AND d.state = 'approved' ORDER BY d.decided_at`, c.No)
	if err != nil {
		return nil, nil, err
	}
	var ranges []certRange
	l := &CertLedger{}
	for rows.Next() {
		var line LedgerLine
		var kind string
		var at int64
		if err := rows.Scan(&kind, &line.Code, &line.Start, &line.End, &line.Operator, &line.Checker, &at); err != nil {
			rows.Close()
			return nil, nil, err
		}
		line.At, line.What, line.Count = time.UnixMilli(at).UTC(), "领", line.End-line.Start+1
		l.Lines = append(l.Lines, line)
		l.Received += line.Count
		ranges = append(ranges, certRange{kind, line.Code, line.Start, line.End})
	}
	rows.Close()
	for _, r := range ranges {
		var used, voided int64
		if r.kind == StockEInvoice {
			if err := s.queryRow(ctx, "SELECT COUNT(*) FROM bills WHERE bill_code = ? AND bill_no BETWEEN ? AND ?", r.code, r.start, r.end).Scan(&used); err != nil {
				return nil, nil, err
			}
		} else {
			if err := s.queryRow(ctx, `SELECT COALESCE(SUM(CASE WHEN status = 'printed' THEN 1 ELSE 0 END), 0),
				COALESCE(SUM(CASE WHEN status <> 'printed' THEN 1 ELSE 0 END), 0) FROM paper_usage WHERE paper_code = ? AND paper_no BETWEEN ? AND ?`,
				r.code, r.start, r.end).Scan(&used, &voided); err != nil {
				return nil, nil, err
			}
		}
		l.Used += used
		l.Voided += voided
	}
	l.Balance = l.Received - l.Used - l.Voided
	if err := s.certWrittenOff(ctx, l, ranges); err != nil {
		return nil, nil, err
	}
	slices.SortStableFunc(l.Lines, func(a, b LedgerLine) int { return a.At.Compare(b.At) })
	return c, l, nil
}

// certRange is a range received on a certificate.
type certRange struct {
	kind, code string
	start, end int64
}

// certWrittenOff adds the 销 lines: for each closed write-off declaration of
// the whole unit for a code the certificate's ranges are of, the numbers of
// those ranges it accounted for (as of its cut), and their sum, 累计核销.
func (s *Store) certWrittenOff(ctx context.Context, l *CertLedger, ranges []certRange) error {
	done := map[string]bool{}
	for _, r := range ranges {
		if done[r.kind+r.code] {
			continue
		}
		done[r.kind+r.code] = true
		decls, err := s.WriteOffs(ctx, WriteOffQuery{Kind: r.kind, Code: r.code})
		if err != nil {
			return err
		}
		slices.SortFunc(decls, func(a, b WriteOff) int { return a.From.Compare(b.From) })
		var before int64
		for _, d := range decls {
			if !d.Closed() || d.Point != "" {
				continue
			}
			var upTo int64
			for _, rr := range ranges {
				if rr.kind != r.kind || rr.code != r.code {
					continue
				}
				var n int64
				var err error
				if r.kind == StockEInvoice {
					err = s.queryRow(ctx, `SELECT COUNT(*) FROM bills WHERE bill_code = ? AND bill_no BETWEEN ? AND ? AND issued_at < ? AND received_at <= ?`,
						r.code, rr.start, rr.end, d.To.UnixMilli(), d.CutAt.UnixMilli()).Scan(&n)
				} else {
					err = s.queryRow(ctx, `SELECT COUNT(*) FROM paper_usage WHERE paper_code = ? AND paper_no BETWEEN ? AND ? AND used_at < ? AND rec_at <= ?`,
						r.code, rr.start, rr.end, d.To.UnixMilli(), d.CutAt.UnixMilli()).Scan(&n)
					if err == nil {
						var voids []Span
						voids, err = spans(ctx, s, "SELECT start_no, end_no FROM paper_store_voids WHERE code = ? AND state = 'approved' AND decided_at < ?",
							r.code, d.To.UnixMilli())
						for _, v := range voids {
							n += max(0, min(v.End, rr.end)-max(v.Start, rr.start)+1)
						}
					}
				}
				if err != nil {
					return err
				}
				upTo += n
			}
			if upTo > before {
				l.Lines = append(l.Lines, LedgerLine{At: d.DecidedAt, What: "销", Code: d.Code, Count: upTo - before, Operator: d.Maker, Checker: d.Checker})
				l.WrittenOff += upTo - before
			}
			before = upTo
		}
	}
	return nil
}

// certificateReminders are the messages due for certificates: expiry and
// the yearly inspection within warn.
func (s *Store) certificateReminders(ctx context.Context, warn time.Duration, send func(key string, m Message) error) error {
	list, err := s.certificates(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	for _, c := range list {
		if !c.Enabled {
			continue
		}
		if end := c.Expires(); !end.IsZero() && end.Sub(now) < warn {
			if err := send("cert-expiry:"+c.ID, Message{Role: RoleBillAdmin, Title: "领用证 " + c.No + " 即将到期",
				Body: fmt.Sprintf("领用证 %s（%s）有效期至 %s，请及时到财政部门办理换证；到期后不能用它入库。", c.No, c.Name, c.ValidTo)}); err != nil {
				return err
			}
		}
		if due := c.NextInspection(); !due.IsZero() && due.Sub(now) < warn {
			if err := send("cert-inspection:"+c.ID, Message{Role: RoleBillAdmin, Title: "领用证 " + c.No + " 年检",
				Body: fmt.Sprintf("领用证 %s（%s）应于 %s 前年检；年检后请在“领用证”中填写年检日期。", c.No, c.Name,
					due.In(bill.Beijing).Format("2006-01-02"))}); err != nil {
				return err
			}
		}
	}
	return nil
}
