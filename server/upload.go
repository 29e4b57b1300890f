package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/sync/wire"
)

// Upload verifies and stores a batch of bills from a point's station, in
// chain order, and acknowledges each: stored, duplicate (a replay, same
// answer as the first time), conflict (recorded, never overwritten) or
// rejected (bad signature, broken chain, number not allocated to the point,
// totals that do not add up). A bill that is not stored stops the chain:
// the bills after it are rejected until it is sorted out.
//
// Signatures and content are checked in parallel before the transaction;
// inside it the batch costs a handful of set-based queries and one insert.
func (s *Store) Upload(ctx context.Context, point string, bills []wire.Bill) (*wire.UploadResponse, error) {
	if len(bills) == 0 || len(bills) > wire.MaxBatch {
		return nil, bill.Errorf(bill.EInvalid, "每批上传 1 至 %d 张票据，收到 %d 张。", wire.MaxBatch, len(bills))
	}
	p, err := s.Point(ctx, point)
	if err != nil {
		return nil, err
	}
	if !p.Active() {
		return nil, bill.Errorf(bill.EConflict, "开票点 %s 的收费电脑未注册或已撤销，不能上传。", point)
	}
	pub, err := bill.ParsePublicKeyPEM(p.PublicKey)
	if err != nil {
		return nil, err
	}
	return s.storeChecked(ctx, p, bills, verifyAll(pub, p.Code, bills), true)
}

// storeChecked decides and stores bills whose content is already checked:
// by verifyAll for a station's upload, or, for a server point, by having
// just been sealed in this process from a validated settlement (verifying
// the server's own fresh signature again would prove nothing). Either way
// the ledger's rules — chain, numbers, duplicates, reversals — are applied
// here, in one transaction. With record, a conflict is kept for the
// administrator (a station's bill exists, whatever the ledger says); a
// server point's bill that lost a race to another server never existed, and
// is not recorded.
func (s *Store) storeChecked(ctx context.Context, p *Point, bills []wire.Bill, checked []checkedBill, record bool) (*wire.UploadResponse, error) {
	point := p.Code
	var resp *wire.UploadResponse
	err := s.tx(ctx, func(t *dbtx) error {
		u, err := s.newUploadBatch(ctx, t, p.Code, bills)
		if err != nil {
			return err
		}
		u.record = record
		if u.point.PublicKey != p.PublicKey {
			return bill.Errorf(bill.EConflict, "开票点 %s 的收费电脑刚刚被更换，请重新上传。", point)
		}
		resp = &wire.UploadResponse{}
		for i := range bills {
			ack, err := u.decide(ctx, &bills[i], checked[i])
			if err != nil {
				return err
			}
			resp.Acks = append(resp.Acks, ack)
		}
		if err := u.flush(ctx); err != nil {
			return err
		}
		resp.ChainSeq = u.point.ChainSeq
		return t.audit(ctx, "bills.upload", point, uploadSummary(resp))
	})
	return resp, err
}

// checkedBill is what can be known of an uploaded bill without the ledger.
type checkedBill struct {
	b      *bill.Bill
	reject string // why it cannot be stored, whatever the ledger holds
}

// verifyAll checks every bill's signature, hash, check code, header and
// (for blue bills) business rules, on all cores.
func verifyAll(pub *bill.PublicKey, point string, bills []wire.Bill) []checkedBill {
	out := make([]checkedBill, len(bills))
	work := make(chan int)
	var wg gosync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i] = verifyOne(pub, point, &bills[i])
			}
		}()
	}
	for i := range bills {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

func verifyOne(pub *bill.PublicKey, point string, wb *wire.Bill) checkedBill {
	b, err := bill.Open(wb.Content, wb.Hash, wb.Signature, wb.CheckCode, pub)
	if err != nil {
		return checkedBill{reject: bill.ErrorMessage(err)}
	}
	if b.ID != wb.ID || b.Seq != wb.Seq || b.BillCode != wb.BillCode || b.BillNo != bill.FormatBillNo(wb.BillNo) {
		return checkedBill{b: b, reject: "上传的票据标识、链序号或号码与签名内容不符"}
	}
	if b.PlaceCode != point {
		return checkedBill{b: b, reject: fmt.Sprintf("票据属于开票点 %s，不是本开票点 %s 的票据", b.PlaceCode, point)}
	}
	if b.Red == nil {
		if err := b.Settlement.Validate(b.Kind); err != nil {
			return checkedBill{b: b, reject: "票据内容不合规：" + bill.ErrorMessage(err)}
		}
	}
	return checkedBill{b: b}
}

// uploadBatch is one upload's view of the ledger, loaded with a few queries
// and kept up to date as the batch's bills are decided.
type uploadBatch struct {
	record   bool // keep conflicts in the conflicts table
	s        *Store
	t        *dbtx
	point    *Point
	heldHash map[string]string         // bill id → hash, for ids of this batch the ledger holds
	numbers  map[string]string         // "code/no" → bill id, for numbers of this batch already used
	segments []wire.Segment            // the point's segments
	accepted map[string]*bill.Bill     // bills of this batch stored so far, by id
	reversed map[string]bool           // originals reversed by a red bill of this batch
	refunded map[string]bill.Money     // deposit vouchers: what red vouchers of this batch refunded
	inserts  []*wire.Bill              // to insert at flush
	bills    map[*wire.Bill]*bill.Bill // decoded content of inserts
}

func numberKey(code string, no int64) string { return code + "/" + strconv.FormatInt(no, 10) }

func (s *Store) newUploadBatch(ctx context.Context, t *dbtx, point string, bills []wire.Bill) (*uploadBatch, error) {
	p, err := scanPoint(t.queryRow(ctx, pointCols+" WHERE code = ?"+s.forUpdate(), point))
	if err != nil {
		return nil, err
	}
	u := &uploadBatch{s: s, t: t, point: p, heldHash: map[string]string{}, numbers: map[string]string{},
		accepted: map[string]*bill.Bill{}, reversed: map[string]bool{}, refunded: map[string]bill.Money{}, bills: map[*wire.Bill]*bill.Bill{}}
	ids := make([]any, len(bills))
	for i := range bills {
		ids[i] = bills[i].ID
	}
	if err := u.scanPairs(ctx, "SELECT id, hash FROM bills WHERE id IN ("+placeholders(len(ids))+")", ids, u.heldHash); err != nil {
		return nil, err
	}
	byCode := map[string][]any{}
	for i := range bills {
		byCode[bills[i].BillCode] = append(byCode[bills[i].BillCode], bills[i].BillNo)
	}
	for code, nos := range byCode {
		rows, err := t.query(ctx, "SELECT bill_no, id FROM bills WHERE bill_code = ? AND bill_no IN ("+placeholders(len(nos))+")",
			append([]any{code}, nos...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var no int64
			var id string
			if err := rows.Scan(&no, &id); err != nil {
				rows.Close()
				return nil, err
			}
			u.numbers[numberKey(code, no)] = id
		}
		rows.Close()
	}
	// Only the segments that may hold this batch's numbers: a point is given
	// a new segment every thousand bills or so, and keeps them all.
	lo, hi := bills[0].BillNo, bills[0].BillNo
	for i := range bills {
		lo, hi = min(lo, bills[i].BillNo), max(hi, bills[i].BillNo)
	}
	rows, err := t.query(ctx, "SELECT bill_code, start_no, end_no FROM segments WHERE point_code = ? AND epoch = ? AND end_no >= ? AND start_no <= ?",
		point, p.Epoch, lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sg wire.Segment
		if err := rows.Scan(&sg.BillCode, &sg.Start, &sg.End); err != nil {
			return nil, err
		}
		u.segments = append(u.segments, sg)
	}
	return u, rows.Err()
}

func (u *uploadBatch) scanPairs(ctx context.Context, q string, args []any, into map[string]string) error {
	rows, err := u.t.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		into[k] = v
	}
	return rows.Err()
}

func (u *uploadBatch) allocated(code string, no int64) bool {
	for _, sg := range u.segments {
		if sg.BillCode == code && no >= sg.Start && no <= sg.End {
			return true
		}
	}
	return false
}

// decide gives one bill its verdict. It returns an error only for database
// faults. A bill to store is queued for flush and moves the chain.
func (u *uploadBatch) decide(ctx context.Context, wb *wire.Bill, c checkedBill) (wire.Ack, error) {
	ack := wire.Ack{ID: wb.ID, Seq: wb.Seq}
	reject := func(format string, args ...any) (wire.Ack, error) {
		ack.Status, ack.Message = wire.AckRejected, fmt.Sprintf(format, args...)
		return ack, nil
	}
	conflict := func(reason string) (wire.Ack, error) {
		ack.Status, ack.Message = wire.AckConflict, reason
		if !u.record {
			return ack, nil
		}
		return ack, u.s.recordConflict(ctx, u.t, u.point.Code, wb, reason)
	}
	hash := hex.EncodeToString(wb.Hash)
	if held, ok := u.heldHash[wb.ID]; ok {
		if held == hash {
			ack.Status = wire.AckDuplicate
			return ack, nil
		}
		return conflict("服务器已有同一标识的票据，但内容不同")
	}
	if c.reject != "" {
		return reject("%s", c.reject)
	}
	b, p := c.b, u.point
	switch {
	case b.Seq <= p.ChainSeq:
		return conflict(fmt.Sprintf("链序号 %d 已有另一张票据", b.Seq))
	case b.Seq > p.ChainSeq+1:
		return reject("缺少链序号 %d 至 %d 的票据，请按顺序上传", p.ChainSeq+1, b.Seq-1)
	case b.PrevHash != p.ChainHash:
		return reject("与前一张票据的链接断开（本机票据可能被改动），已拒收")
	}
	if !u.allocated(wb.BillCode, wb.BillNo) {
		return reject("号码 %s %s 不在分配给本开票点的号段内", wb.BillCode, b.BillNo)
	}
	if _, used := u.numbers[numberKey(wb.BillCode, wb.BillNo)]; used {
		return conflict(fmt.Sprintf("号码 %s %s 已被另一张票据使用", wb.BillCode, b.BillNo))
	}
	if b.Red != nil {
		msg, err := u.checkRed(ctx, b)
		if err != nil {
			return ack, err
		}
		if msg == redAlreadyReversed {
			return conflict(msg)
		}
		if msg != "" {
			return reject("%s", msg)
		}
		if b.Kind == bill.Deposit {
			u.refunded[b.Red.OrigID] -= b.Settlement.TotalAmt
		} else {
			u.reversed[b.Red.OrigID] = true
		}
	}
	u.inserts = append(u.inserts, wb)
	u.bills[wb] = b
	u.accepted[b.ID] = b
	u.heldHash[b.ID] = hash
	u.numbers[numberKey(wb.BillCode, wb.BillNo)] = b.ID
	p.ChainSeq, p.ChainHash = b.Seq, hash
	ack.Status = wire.AckStored
	return ack, nil
}

const redAlreadyReversed = "原票据已被另一张红字票据冲销"

// checkRed: a red bill reverses, in full, a bill the ledger (or this batch)
// holds, which no other red bill reversed. It returns a Chinese verdict,
// "" when sound.
func (u *uploadBatch) checkRed(ctx context.Context, b *bill.Bill) (string, error) {
	orig, ok := u.accepted[b.Red.OrigID]
	if !ok {
		var content, sealed []byte
		err := u.t.queryRow(ctx, "SELECT content, pii FROM bills WHERE id = ?", b.Red.OrigID).Scan(&content, &sealed)
		if errors.Is(err, sql.ErrNoRows) {
			return "红字票据的原票据不在服务器上，请先上传原票据", nil
		}
		if err != nil {
			return "", err
		}
		if orig, err = u.s.storedBill(b.Red.OrigID, content, sealed); err != nil {
			return "", err
		}
	}
	if orig.Kind == bill.Deposit || b.Kind == bill.Deposit {
		return u.checkRefund(ctx, b, orig)
	}
	if u.reversed[b.Red.OrigID] {
		return redAlreadyReversed, nil
	}
	var redBy string
	if err := u.t.queryRow(ctx, "SELECT id FROM bills WHERE red_of = ?", b.Red.OrigID).Scan(&redBy); err == nil {
		return redAlreadyReversed, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	want := bill.Reverse(orig.Settlement)
	want.Payee = b.Settlement.Payee // the cashier who reversed it
	if !bytes.Equal(want.Canonical(), b.Settlement.Canonical()) || orig.BillCode != b.Red.OrigBillCode || orig.BillNo != b.Red.OrigBillNo {
		return "红字票据的内容与原票据不对应（应整张冲销原票据）", nil
	}
	return "", nil
}

// checkRefund: a red deposit voucher refunds part or all of what is left
// of a deposit voucher, its content the original's with the refund's own
// fields. The original's row is locked, so that two refunds of one voucher
// at different points are decided one after the other.
func (u *uploadBatch) checkRefund(ctx context.Context, b *bill.Bill, orig *bill.Bill) (string, error) {
	if orig.Kind != bill.Deposit || b.Kind != bill.Deposit {
		return "预交金凭证只能由预交金红字凭证退款，其他票据也不能用红字凭证冲销", nil
	}
	var id string
	if err := u.t.queryRow(ctx, "SELECT id FROM bills WHERE id = ?"+u.s.forUpdate(), b.Red.OrigID).Scan(&id); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	refunded, err := u.s.refundedTx(ctx, u.t, b.Red.OrigID)
	if err != nil {
		return "", err
	}
	refunded += u.refunded[b.Red.OrigID]
	amt := -b.Settlement.TotalAmt
	if left := orig.Settlement.TotalAmt - refunded; amt > left {
		if left == 0 {
			return redAlreadyReversed, nil
		}
		return fmt.Sprintf("退款金额 %s 元超过预交金凭证余额 %s 元", amt, left), nil
	}
	want, err := bill.RefundDeposit(orig.Settlement, amt, bill.RefundFieldsOf(&b.Settlement))
	if err != nil {
		return bill.ErrorMessage(err), nil
	}
	if !bytes.Equal(want.Canonical(), b.Settlement.Canonical()) || orig.BillCode != b.Red.OrigBillCode || orig.BillNo != b.Red.OrigBillNo {
		return "红字预交金凭证的内容与原凭证不对应", nil
	}
	return "", nil
}

// refundedTx is how much of a deposit voucher red vouchers have refunded.
func (s *Store) refundedTx(ctx context.Context, t *dbtx, voucherID string) (bill.Money, error) {
	_, sum, err := redsOf(ctx, t, voucherID)
	return -sum, err
}

// redsOf is how many red bills reverse (or refund) bill id and what they
// add up to (negative), read through a transaction or the store.
func redsOf(ctx context.Context, q interface {
	queryRow(context.Context, string, ...any) *sql.Row
}, id string) (int, bill.Money, error) {
	var n int
	var sum sql.NullInt64
	err := q.queryRow(ctx, "SELECT COUNT(*), SUM(total) FROM bills WHERE red_of = ?", id).Scan(&n, &sum)
	return n, bill.Money(sum.Int64), err
}

// flush inserts the accepted bills (several rows per statement) and moves
// the point's chain head.
func (u *uploadBatch) flush(ctx context.Context) error {
	const cols = 23
	const perStatement = 100
	stats := map[statKey]statVal{}
	for i := 0; i < len(u.inserts); i += perStatement {
		chunk := u.inserts[i:min(i+perStatement, len(u.inserts))]
		args := make([]any, 0, len(chunk)*cols)
		rows := make([]string, len(chunk))
		now := u.s.millis()
		for j, wb := range chunk {
			b := u.bills[wb]
			var busNo, redOf, cardNo any
			if c := strings.TrimSpace(string(b.Settlement.CardNo)); c != "" {
				cardNo = c
			}
			if b.Red == nil {
				busNo = string(b.Settlement.BusNo)
			} else {
				redOf = b.Red.OrigID
			}
			rows[j] = "(" + placeholders(cols) + ")"
			content, sealed := u.s.pii.Seal(wb.Content, []byte(b.ID))
			args = append(args, b.ID, u.point.Code, u.point.Epoch, b.Seq, wb.BillCode, wb.BillNo, wb.CheckCode, string(b.Kind),
				busNo, string(b.Settlement.Payer), int64(b.Settlement.TotalAmt), b.IssuedTime().UnixMilli(), redOf, content,
				hex.EncodeToString(wb.Hash), wb.Signature, now, cardNo, BusinessTime(b).UnixMilli(), string(b.Settlement.BusType),
				patientNo(b), mainChannel(b), sealed)
			billStats(stats, u.point.Code, b)
		}
		if _, err := u.t.exec(ctx, `INSERT INTO bills (id, point_code, epoch, seq, bill_code, bill_no, check_code, kind, bus_no,
			payer, total, issued_at, red_of, content, hash, signature, received_at, card_no, bus_at, bus_type, patient_no, pay_channel, pii)
			VALUES `+strings.Join(rows, ","), args...); err != nil {
			return err
		}
	}
	if len(u.inserts) == 0 {
		return nil
	}
	if err := addStats(ctx, u.t.exec, stats); err != nil {
		return err
	}
	_, err := u.t.exec(ctx, "UPDATE points SET chain_seq = ?, chain_hash = ? WHERE code = ?", u.point.ChainSeq, u.point.ChainHash, u.point.Code)
	return err
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func (s *Store) recordConflict(ctx context.Context, t *dbtx, point string, wb *wire.Bill, reason string) error {
	content, sealed := s.pii.Seal(wb.Content, []byte(wb.ID))
	_, err := t.exec(ctx, `INSERT INTO conflicts (id, point_code, bill_id, seq, bill_code, bill_no, reason, hash, content, received_at, pii)
		VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (point_code, bill_id, hash) DO NOTHING`,
		uuid.Must(uuid.NewV7()).String(), point, wb.ID, wb.Seq, wb.BillCode, wb.BillNo, reason, hex.EncodeToString(wb.Hash),
		content, s.millis(), sealed)
	return err
}

// Conflict is an upload that collided with the ledger.
type Conflict struct {
	Point      string    `json:"point"`
	BillID     string    `json:"billId"`
	Seq        int64     `json:"seq"`
	BillCode   string    `json:"billCode"`
	BillNo     int64     `json:"billNo"`
	Reason     string    `json:"reason"`
	ReceivedAt time.Time `json:"receivedAt"`
}

// Conflicts lists the recorded conflicts of a point ("" for all), newest
// first, at most 5,000.
func (s *Store) Conflicts(ctx context.Context, point string) ([]Conflict, error) {
	rows, err := s.query(ctx, `SELECT point_code, bill_id, seq, bill_code, bill_no, reason, received_at FROM conflicts
		WHERE ? = '' OR point_code = ? ORDER BY received_at DESC LIMIT 5000`, point, point)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		var c Conflict
		var at int64
		if err := rows.Scan(&c.Point, &c.BillID, &c.Seq, &c.BillCode, &c.BillNo, &c.Reason, &at); err != nil {
			return nil, err
		}
		c.ReceivedAt = time.UnixMilli(at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// PaperConflict is a paper use a station reported and the server refused.
type PaperConflict struct {
	Point  string    `json:"point"`
	Code   string    `json:"paperCode"`
	No     int64     `json:"paperNo"`
	Status string    `json:"status"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// PaperConflicts lists refused paper uses of a point ("" for all), newest
// first, at most 5,000.
func (s *Store) PaperConflicts(ctx context.Context, point string) ([]PaperConflict, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT point_code, paper_code, paper_no, status, reason, received_at FROM paper_conflicts
		WHERE ? = '' OR point_code = ? ORDER BY received_at DESC LIMIT 5000`, point, point)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PaperConflict
	for rows.Next() {
		var c PaperConflict
		var at int64
		if err := rows.Scan(&c.Point, &c.Code, &c.No, &c.Status, &c.Reason, &at); err != nil {
			return nil, err
		}
		c.At = time.UnixMilli(at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// uploadSummary counts an upload's verdicts for the audit trail.
func uploadSummary(r *wire.UploadResponse) map[string]any {
	counts := map[string]int{}
	for _, a := range r.Acks {
		counts[a.Status]++
	}
	return map[string]any{"acks": counts, "chainSeq": r.ChainSeq}
}
