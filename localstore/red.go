package localstore

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/ebill/ebill/bill"
)

// Reverse issues the red bill (冲红) of the bill code+no: every amount
// negated, under the same bill code, once. A second attempt is an
// EAlreadyReversed error naming the red bill. A live paper copy of the
// original is voided in the same transaction.
func (s *Store) Reverse(ctx context.Context, code string, no int64, reason, operator string) (*IssueResult, error) {
	reason, operator = strings.TrimSpace(reason), strings.TrimSpace(operator)
	if reason == "" {
		return nil, bill.FieldErrorf("reason", "请填写冲红原因。")
	}
	if utf8.RuneCountInString(reason) > 200 {
		return nil, bill.FieldErrorf("reason", "冲红原因不能超过200个字符。")
	}
	if utf8.RuneCountInString(operator) > 60 {
		return nil, bill.FieldErrorf("operator", "经办人不能超过60个字符。")
	}
	var res *IssueResult
	err := s.tx(ctx, func(tx *wtx) error {
		orig, err := s.getBill(ctx, tx, "b.bill_code = ? AND b.bill_no = ?", code, no)
		if err != nil {
			return err
		}
		if orig.RedOf != "" {
			return bill.Errorf(bill.EInvalid, "票据 %s %s 本身是红字票据，不能冲红。", code, orig.BillNoText())
		}
		if red, err := s.redOf(ctx, tx, orig.ID); err != nil || red != nil {
			if red != nil {
				return bill.Errorf(bill.EAlreadyReversed, "票据 %s %s 已冲销（红字票据 %s %s），不能重复冲红。",
					code, orig.BillNoText(), red.BillCode, red.BillNoText())
			}
			return err
		}
		st, err := loadTxStation(ctx, tx)
		if err != nil {
			return err
		}
		cfg, err := s.config(ctx, tx, st.ConfigVersion)
		if err != nil {
			return err
		}
		if err := cfg.issuable(); err != nil {
			return err
		}
		warnings, err := cfg.limits.Check(st.offlineState(), s.now(), orig.Total, true)
		if err != nil {
			return err
		}
		b := &bill.Bill{Kind: orig.Kind, Settlement: bill.Reverse(orig.Bill.Settlement), Red: &bill.RedRef{
			OrigID: orig.ID, OrigBillCode: orig.BillCode, OrigBillNo: orig.BillNoText(), Reason: reason, Operator: operator}}
		if operator != "" {
			b.Settlement.Payee = bill.Text(operator)
		}
		redID := orig.ID
		stored, alert, err := s.appendBill(ctx, tx, cfg, st, orig.BillCode, b, b.Settlement.Canonical(), nil, nil, &redID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE paper_usage SET status = 'voided', reason = ?, operator = ?, voided_at = ?
			WHERE bill_id = ? AND status = 'printed'`, "冲红作废："+reason, operator, nowMillis(s.now()), orig.ID); err != nil {
			return err
		}
		res = &IssueResult{Bill: stored, Warnings: append(warnings, alert...)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// redOf returns the red bill of the bill with id, or nil.
func (s *Store) redOf(ctx context.Context, q querier, id string) (*StoredBill, error) {
	red, err := s.getBill(ctx, q, "b.red_of = ?", id)
	var be *bill.Error
	if errors.As(err, &be) && be.Code == bill.ENotFound {
		return nil, nil
	}
	return red, err
}
