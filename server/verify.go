package server

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/ebill/ebill/bill"
)

// The verification page patients reach from a bill's QR code (domain.md
// §6): the bill and its state, by code + number + check code (+ date and
// amount when given), mobile-friendly, in Chinese.

// VerifyResult is what the page shows.
type VerifyResult struct {
	Found     bool
	BillCode  string
	BillNo    string
	CheckCode string
	Kind      string
	Payer     string // masked
	Total     string
	IssuedAt  string
	Unit      string
	State     string // 正常, 已冲红, 红字
	Paper     string // the live paper copy, "35062601 0000000005", when the bill was converted
	Valid     bool   // a normal bill (on paper or not): shown in green
	Message   string
	// Files is set when the page was reached by the bill's own QR link (its
	// signed token checks) and the bill is in force and not on paper: the
	// page then offers the bill's PDF and OFD (VerifiedBill).
	Files bool
}

// VerifyBill looks a bill up for the verification page. A wrong check code,
// date or amount, or a token that does not match, is "not found": the page
// never confirms part of a bill.
func (s *Store) VerifyBill(ctx context.Context, ref bill.VerifyRef) (*VerifyResult, error) {
	r, _, err := s.verify(ctx, ref)
	return r, err
}

// verify is VerifyBill with the bill it found (nil when none).
func (s *Store) verify(ctx context.Context, ref bill.VerifyRef) (*VerifyResult, *LedgerBill, error) {
	notFound := &VerifyResult{Message: "查无此票：请核对票据代码、号码和校验码。"}
	lb, err := s.verifyLookup(ctx, ref)
	if err != nil || lb == nil {
		return notFound, nil, err
	}
	r := &VerifyResult{Found: true, BillCode: lb.BillCode, BillNo: lb.BillNo, CheckCode: lb.CheckCode, Kind: lb.Kind.Name(),
		Payer: maskName(lb.Payer), Total: lb.Total.String(), IssuedAt: lb.IssuedAt.In(bill.Beijing).Format("2006-01-02 15:04"),
		Unit: lb.Bill.UnitName}
	if r.State, err = s.stateOf(ctx, lb); err != nil {
		return nil, nil, err
	}
	switch r.State {
	case stateReversed:
		r.Message = "该票据已被红字票据冲销，不能再用于报销。"
	case stateRed:
		r.Message = "这是红字（冲销）票据，冲销原票据 " + lb.RedOfBill + "。"
		if lb.Kind == bill.Deposit {
			r.Message = "这是预交金退款凭证，退还预交金凭证 " + lb.RedOfBill + " 的 " + (-lb.Total).String() + " 元。"
		}
	case stateNormal:
		if lb.Kind == bill.Deposit {
			_, refunded, err := redsOf(ctx, s, lb.ID)
			if err != nil {
				return nil, nil, err
			}
			if refunded != 0 {
				r.Message = "该预交金凭证已退款 " + (-refunded).String() + " 元，余额 " + (lb.Total + refunded).String() + " 元。"
			}
		}
	}
	r.Valid = r.State == stateNormal
	// A bill converted to paper is reimbursed with the paper, not twice.
	var paperCode string
	var paperNo int64
	switch err := s.queryRow(ctx, "SELECT paper_code, paper_no FROM paper_usage WHERE bill_id = ? AND status = 'printed'", lb.ID).Scan(&paperCode, &paperNo); {
	case err == nil:
		r.Paper = paperCode + " " + bill.FormatBillNo(paperNo)
		r.State = stateNormal + "（已换开纸质票据）"
		r.Message = "该电子票据已换开为纸质票据 " + r.Paper + "，请凭纸质票据报销，电子票据不再重复报销。"
	case !errors.Is(err, sql.ErrNoRows):
		return nil, nil, err
	}
	r.Files = ref.Token != "" && r.Valid && r.Paper == ""
	return r, lb, nil
}

// verifyLookup is the bill ref names, or nil when any part of ref (check
// code, and date, amount and token when given) does not match it.
func (s *Store) verifyLookup(ctx context.Context, ref bill.VerifyRef) (*LedgerBill, error) {
	no, err := bill.ParseBillNo(strings.TrimSpace(ref.BillNo))
	if err != nil || bill.CheckBillCode(ref.BillCode) != nil {
		return nil, nil
	}
	lb, err := s.LedgerBill(ctx, ref.BillCode, no)
	if bill.ErrorCode(err) == bill.ENotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(strings.TrimSpace(ref.CheckCode), lb.CheckCode) || lb.Bill == nil {
		return nil, nil
	}
	sig, err := s.BillSignature(ctx, lb.ID)
	if err != nil {
		return nil, err
	}
	want := bill.NewVerifyRef(lb.Bill, lb.CheckCode, sig)
	if (ref.Date != "" && ref.Date != want.Date) || (ref.Amount != "" && ref.Amount != want.Amount) ||
		(ref.Token != "" && !ref.Valid(sig)) {
		return nil, nil
	}
	return lb, nil
}

// VerifiedBill is the bill a QR link names, for its PDF or OFD: the whole
// signed link must match (check code, date, amount and token), and the
// bill be in force and not on paper (VerifyResult.Files); anything else is
// ENotFound, saying no more than the page does.
func (s *Store) VerifiedBill(ctx context.Context, ref bill.VerifyRef) (*LedgerBill, error) {
	notFound := bill.Errorf(bill.ENotFound, "查无此票，或该票据不提供下载：请扫描票据上的二维码。")
	if ref.Token == "" || ref.Date == "" || ref.Amount == "" {
		return nil, notFound
	}
	r, lb, err := s.verify(ctx, ref)
	if err != nil {
		return nil, err
	}
	if !r.Files {
		return nil, notFound
	}
	return lb, nil
}

// The states of a bill as patients see them.
const (
	stateNormal   = "正常"
	stateReversed = "已冲红"
	stateRed      = "红字"
)

// stateOf is a bill's state: a red bill, a bill reversed by one, or normal.
func (s *Store) stateOf(ctx context.Context, lb *LedgerBill) (string, error) {
	if lb.RedOf != "" {
		return stateRed, nil
	}
	reversed, err := s.IsReversed(ctx, lb.ID)
	if err != nil || !reversed {
		return stateNormal, err
	}
	return stateReversed, nil
}

// maskName shows a payer's family name only: 张三 → 张*, 欧阳娜娜 → 欧***.
func maskName(name string) string {
	r := []rune(name)
	if len(r) <= 1 {
		return name
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}
