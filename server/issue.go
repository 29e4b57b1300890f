package server

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	gosync "sync"

	"github.com/ebill/ebill/bill"
)

// Server-side issuing, for points of kind server (the HIS calls): the
// server acts as the point's station. It holds the point's key, takes the
// next number from segments allocated to the point exactly as a station
// does, seals the bill through the bill package and stores it through
// Upload, which verifies it like any station's bill — one issuing path and
// one set of checks in the whole system.

// Issued is a bill issued at a server point.
type Issued struct {
	*LedgerBill
	Signature []byte // when known without a query
	Duplicate bool   // the BusNo was billed before with the same content: this is that bill
}

// pointLocks serialises issuing per point (the chain has one head).
type pointLocks struct {
	mu    gosync.Mutex
	locks map[string]*gosync.Mutex
}

func (l *pointLocks) lock(point string) func() {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*gosync.Mutex{}
	}
	m := l.locks[point]
	if m == nil {
		m = &gosync.Mutex{}
		l.locks[point] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// serverKey returns the signing key of a server point, creating it (and
// enrolling the point with it) on first use. Keys are kept once loaded: a
// server point's key never changes.
func (s *Store) serverKey(ctx context.Context, point string) (*bill.PrivateKey, error) {
	if k, ok := s.keys.Load(point); ok {
		return k.(*bill.PrivateKey), nil
	}
	s.keyMu.Lock() // two first calls must not both create a key
	defer s.keyMu.Unlock()
	if k, ok := s.keys.Load(point); ok {
		return k.(*bill.PrivateKey), nil
	}
	k, err := s.loadServerKey(ctx, point)
	if err == nil {
		s.keys.Store(point, k)
	}
	return k, err
}

func (s *Store) loadServerKey(ctx context.Context, point string) (*bill.PrivateKey, error) {
	p, err := s.Point(ctx, point)
	if err != nil {
		return nil, err
	}
	if p.Kind != PointServer {
		return nil, bill.Errorf(bill.EUnauthorized, "开票点 %s 是收费电脑开票点，不能由服务器开票。", point)
	}
	var pem string
	err = s.queryRow(ctx, "SELECT private_key FROM point_keys WHERE point_code = ?", point).Scan(&pem)
	if err == nil {
		return bill.ParsePrivateKeyPEM(s.openText(pem, "point_key:"+point))
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	key, err := bill.GenerateKey()
	if err != nil {
		return nil, err
	}
	priv, err := key.PEM()
	if err != nil {
		return nil, err
	}
	pub, err := key.Public().PEM()
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, "INSERT INTO point_keys (point_code, private_key) VALUES (?, ?)", point, s.sealText(priv, "point_key:"+point)); err != nil {
			if isUniqueViolation(err) {
				return errKeyExists
			}
			return err
		}
		if _, err := t.exec(ctx, `UPDATE points SET public_key = ?, enrolled_at = ?, revoked_at = NULL, epoch = epoch + 1,
			chain_seq = 0, chain_hash = ? WHERE code = ?`, pub, s.millis(), bill.GenesisHash, point); err != nil {
			return err
		}
		if err := recordEpoch(ctx, t, point, pub, s.millis()); err != nil {
			return err
		}
		return t.audit(ctx, "point.server_key", point, map[string]string{"publicKey": pub})
	})
	if errors.Is(err, errKeyExists) {
		// Another server made the point's key a moment ago: use that one.
		if err := s.queryRow(ctx, "SELECT private_key FROM point_keys WHERE point_code = ?", point).Scan(&pem); err != nil {
			return nil, err
		}
		return bill.ParsePrivateKeyPEM(s.openText(pem, "point_key:"+point))
	}
	if err != nil {
		return nil, err
	}
	return key, nil
}

var errKeyExists = errors.New("the point's key was made by another server")

// IssueAt issues a bill of kind k at the server point for a settlement. A
// settlement's BusNo already billed at the point with the same content
// returns that bill (a retry); with other content it is an EConflict.
func (s *Store) IssueAt(ctx context.Context, point string, k bill.Kind, in *bill.Settlement) (*Issued, error) {
	st := in.Clone()
	st.Normalize()
	if err := st.Validate(k); err != nil {
		return nil, err
	}
	if _, known := s.keys.Load(point); !known { // a point with a key is a server point
		if _, err := s.serverKey(ctx, point); err != nil {
			return nil, err
		}
	}
	return s.submit(ctx, point, k, st)
}

// priorIssue answers a BusNo seen before: the same bill for the same content.
func (s *Store) priorIssue(prior *LedgerBill, k bill.Kind, canonical []byte) (*Issued, error) {
	if prior.Kind != k || string(prior.Bill.Settlement.Canonical()) != string(canonical) {
		return nil, bill.Errorf(bill.EConflict, "业务流水号 %s 已开具票据 %s %s，但本次结算内容不同；请核对，或使用新的业务流水号。",
			prior.BusNo, prior.BillCode, prior.BillNo)
	}
	return &Issued{LedgerBill: prior, Duplicate: true}, nil
}

// seal numbers, chains, signs and stores one bill at a server point; the
// caller holds the point's lock.
func (s *Store) seal(ctx context.Context, point string, key *bill.PrivateKey, k bill.Kind, st *bill.Settlement, red *bill.RedRef) (*Issued, error) {
	issued, errs, err := s.sealAndStore(ctx, point, key, []toSeal{{kind: k, st: st, red: red}})
	if err != nil {
		return nil, err
	}
	if errs[0] != nil {
		return nil, errs[0]
	}
	return issued[0], nil
}

// billByBusNo finds the bill a point issued for a BusNo; nil when none.
// Deposit vouchers are not looked at: HIS numbers its deposits apart from
// its settlements, so a voucher and a bill may share a BusNo (busKey).
func (s *Store) billByBusNo(ctx context.Context, point, busNo string) (*LedgerBill, error) {
	if strings.TrimSpace(busNo) == "" {
		return nil, nil
	}
	var content, sealed []byte
	lb, err := scanLedger(s.queryRow(ctx, ledgerSelect+", content, pii FROM bills WHERE point_code = ? AND bus_no = ? AND red_of IS NULL AND kind <> 'deposit'",
		point, busNo), &content, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lb.Bill, err = s.storedBill(lb.ID, content, sealed)
	return lb, err
}

// busKey is what BusNo idempotency is kept by: the BusNo of a bill, and
// apart from them, of a deposit voucher.
func busKey(k bill.Kind, busNo string) string {
	if k == bill.Deposit {
		return "deposit/" + busNo
	}
	return busNo
}

// billsByBusNo finds the bills and vouchers a point issued for any of
// busNos, by busKey.
func (s *Store) billsByBusNo(ctx context.Context, point string, busNos []string) (map[string]*LedgerBill, error) {
	out := map[string]*LedgerBill{}
	if len(busNos) == 0 {
		return out, nil
	}
	args := []any{point}
	for _, b := range busNos {
		args = append(args, b)
	}
	found, err := s.billsWithContent(ctx, "WHERE point_code = ? AND red_of IS NULL AND bus_no IN ("+placeholders(len(busNos))+")", args...)
	for _, lb := range found {
		out[busKey(lb.Kind, lb.BusNo)] = lb
	}
	return out, err
}

// ReverseAt issues the red bill of a bill issued at a server point: once
// (a second attempt is EAlreadyReversed, its message containing 已冲销).
// A deposit voucher is reversed by refunding all that is left of it.
func (s *Store) ReverseAt(ctx context.Context, point, code string, no int64, reason, operator string) (*Issued, error) {
	return s.redAt(ctx, point, code, no, reason, operator, 0, bill.RefundFields{})
}

// RefundAt issues, at a server point, the red voucher that refunds amt of
// a deposit voucher (writeOffPayMentVoucher): several refunds may draw on
// one voucher until nothing is left of it.
func (s *Store) RefundAt(ctx context.Context, point, code string, no int64, amt bill.Money, f bill.RefundFields, reason, operator string) (*Issued, error) {
	if amt <= 0 {
		return nil, bill.FieldErrorf("amt", "退款金额应大于 0，收到 %s 元", amt)
	}
	return s.redAt(ctx, point, code, no, reason, operator, amt, f)
}

// redAt issues a red bill: the whole reversal of a bill, or the refund of
// amt (0: all that is left) of a deposit voucher.
func (s *Store) redAt(ctx context.Context, point, code string, no int64, reason, operator string, amt bill.Money, f bill.RefundFields) (*Issued, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, bill.FieldErrorf("reason", "冲红原因不能为空。")
	}
	unlock := s.issueLocks.lock(point)
	defer unlock()
	key, err := s.serverKey(ctx, point)
	if err != nil {
		return nil, err
	}
	orig, err := s.LedgerBill(ctx, code, no)
	if err != nil {
		return nil, err
	}
	if orig.RedOf != "" {
		return nil, bill.Errorf(bill.EInvalid, "票据 %s %s 是红字票据，不能冲红。", code, orig.BillNo)
	}
	red := &bill.RedRef{OrigID: orig.ID, OrigBillCode: orig.BillCode, OrigBillNo: orig.BillNo, Reason: reason, Operator: operator}
	if orig.Kind == bill.Deposit {
		return s.refund(ctx, point, key, orig, amt, f, red)
	}
	if amt != 0 {
		return nil, bill.Errorf(bill.EInvalid, "票据 %s %s 不是预交金凭证，不能部分退款；请整张冲红。", code, orig.BillNo)
	}
	var redCode string
	var redNo int64
	err = s.queryRow(ctx, "SELECT bill_code, bill_no FROM bills WHERE red_of = ?", orig.ID).Scan(&redCode, &redNo)
	if err == nil {
		return nil, bill.Errorf(bill.EAlreadyReversed, "票据 %s %s 已冲销（红字票据 %s %s），不能再次冲红。",
			code, orig.BillNo, redCode, bill.FormatBillNo(redNo))
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	st := bill.Reverse(orig.Bill.Settlement)
	redBill, err := s.seal(ctx, point, key, orig.Kind, &st, red)
	if err != nil {
		return nil, err
	}
	// A live paper copy of the original is voided with the reversal.
	return redBill, s.voidLivePaper(ctx, orig.ID, "冲红："+reason)
}

// refund issues the red voucher of amt (0: all that is left) of deposit
// voucher orig; the caller holds the point's lock. The upload rules
// (checkRefund) decide again inside the transaction that stores it.
func (s *Store) refund(ctx context.Context, point string, key *bill.PrivateKey, orig *LedgerBill, amt bill.Money, f bill.RefundFields, red *bill.RedRef) (*Issued, error) {
	_, refunded, err := redsOf(ctx, s, orig.ID)
	if err != nil {
		return nil, err
	}
	left := orig.Total + refunded
	if left <= 0 {
		return nil, bill.Errorf(bill.EAlreadyReversed, "预交金凭证 %s %s 已全部退款（已冲销），不能再退。", orig.BillCode, orig.BillNo)
	}
	if amt == 0 {
		amt = left
		if f == (bill.RefundFields{}) {
			f = bill.RefundFields{Payee: bill.Text(red.Operator), BusDateTime: bill.Text(bill.FormatBusDateTime(s.now()))}
		}
	}
	if amt > left {
		return nil, bill.FieldErrorf("amt", "退款金额 %s 元超过预交金凭证 %s %s 的余额 %s 元（凭证金额 %s 元，已退 %s 元）。",
			amt, orig.BillCode, orig.BillNo, left, orig.Total, orig.Total-left)
	}
	st, err := bill.RefundDeposit(orig.Bill.Settlement, amt, f)
	if err != nil {
		return nil, err
	}
	issued, err := s.seal(ctx, point, key, bill.Deposit, &st, red)
	if err != nil || amt < left {
		return issued, err
	}
	// Nothing is left: a live paper copy of the voucher is voided with it.
	return issued, s.voidLivePaper(ctx, orig.ID, "退款："+red.Reason)
}
