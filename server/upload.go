package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

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
func (s *Store) Upload(ctx context.Context, point string, bills []wire.Bill) (*wire.UploadResponse, error) {
	if len(bills) == 0 || len(bills) > wire.MaxBatch {
		return nil, bill.Errorf(bill.EInvalid, "每批上传 1 至 %d 张票据，收到 %d 张。", wire.MaxBatch, len(bills))
	}
	var resp *wire.UploadResponse
	err := s.tx(ctx, func(t *dbtx) error {
		p, err := scanPoint(t.queryRow(ctx, pointCols+" WHERE code = ?"+s.forUpdate(), point))
		if errors.Is(err, sql.ErrNoRows) {
			return bill.Errorf(bill.ENotFound, "未找到开票点 %s。", point)
		}
		if err != nil {
			return err
		}
		if !p.Active() {
			return bill.Errorf(bill.EConflict, "开票点 %s 的收费电脑未注册或已撤销，不能上传。", point)
		}
		pub, err := bill.ParsePublicKeyPEM(p.PublicKey)
		if err != nil {
			return err
		}
		resp = &wire.UploadResponse{}
		startSeq := p.ChainSeq
		for i := range bills {
			ack, err := s.accept(ctx, t, p, pub, &bills[i])
			if err != nil {
				return err
			}
			resp.Acks = append(resp.Acks, ack)
		}
		resp.ChainSeq = p.ChainSeq
		if p.ChainSeq == startSeq {
			return nil
		}
		_, err = t.exec(ctx, "UPDATE points SET chain_seq = ?, chain_hash = ? WHERE code = ?", p.ChainSeq, p.ChainHash, p.Code)
		return err
	})
	return resp, err
}

// accept decides one bill. It returns an error only for database faults;
// every verdict about the bill is in the Ack. On success it moves p's chain.
func (s *Store) accept(ctx context.Context, t *dbtx, p *Point, pub *bill.PublicKey, wb *wire.Bill) (wire.Ack, error) {
	ack := wire.Ack{ID: wb.ID, Seq: wb.Seq}
	reject := func(format string, args ...any) (wire.Ack, error) {
		ack.Status, ack.Message = wire.AckRejected, fmt.Sprintf(format, args...)
		return ack, nil
	}
	conflict := func(reason string) (wire.Ack, error) {
		ack.Status, ack.Message = wire.AckConflict, reason
		return ack, s.recordConflict(ctx, t, p.Code, wb, reason)
	}
	var heldHash string
	err := t.queryRow(ctx, "SELECT hash FROM bills WHERE id = ?", wb.ID).Scan(&heldHash)
	switch {
	case err == nil && heldHash == hex.EncodeToString(wb.Hash):
		ack.Status = wire.AckDuplicate
		return ack, nil
	case err == nil:
		return conflict("服务器已有同一标识的票据，但内容不同")
	case !errors.Is(err, sql.ErrNoRows):
		return ack, err
	}
	b, err := bill.Open(wb.Content, wb.Hash, wb.Signature, wb.CheckCode, pub)
	if err != nil {
		return reject("%s", bill.ErrorMessage(err))
	}
	if b.ID != wb.ID || b.Seq != wb.Seq || b.BillCode != wb.BillCode || b.BillNo != bill.FormatBillNo(wb.BillNo) {
		return reject("上传的票据标识、链序号或号码与签名内容不符")
	}
	if b.PlaceCode != p.Code {
		return reject("票据属于开票点 %s，不是本开票点 %s 的票据", b.PlaceCode, p.Code)
	}
	switch {
	case b.Seq <= p.ChainSeq:
		return conflict(fmt.Sprintf("链序号 %d 已有另一张票据", b.Seq))
	case b.Seq > p.ChainSeq+1:
		return reject("缺少链序号 %d 至 %d 的票据，请按顺序上传", p.ChainSeq+1, b.Seq-1)
	case b.PrevHash != p.ChainHash:
		return reject("与前一张票据的链接断开（本机票据可能被改动），已拒收")
	}
	if ok, err := s.numberAllocated(ctx, t, p.Code, wb.BillCode, wb.BillNo); err != nil || !ok {
		if err != nil {
			return ack, err
		}
		return reject("号码 %s %s 不在分配给本开票点的号段内", wb.BillCode, b.BillNo)
	}
	var other string
	if err := t.queryRow(ctx, "SELECT id FROM bills WHERE bill_code = ? AND bill_no = ?", wb.BillCode, wb.BillNo).Scan(&other); err == nil {
		return conflict(fmt.Sprintf("号码 %s %s 已被另一张票据使用", wb.BillCode, b.BillNo))
	} else if !errors.Is(err, sql.ErrNoRows) {
		return ack, err
	}
	if msg, err := s.checkContent(ctx, t, b); err != nil || msg != "" {
		if err != nil {
			return ack, err
		}
		if b.Red != nil && msg == redAlreadyReversed {
			return conflict(msg)
		}
		return reject("%s", msg)
	}
	if err := s.insertBill(ctx, t, p, b, wb); err != nil {
		return ack, err
	}
	p.ChainSeq, p.ChainHash = b.Seq, hex.EncodeToString(wb.Hash)
	ack.Status = wire.AckStored
	return ack, nil
}

const redAlreadyReversed = "原票据已被另一张红字票据冲销"

// checkContent re-checks the business rules: a blue bill's totals, or that a
// red bill reverses, in full, a bill the ledger holds and no other red bill
// reversed. It returns a Chinese verdict, "" when the content is sound.
func (s *Store) checkContent(ctx context.Context, t *dbtx, b *bill.Bill) (string, error) {
	if b.Red == nil {
		if err := b.Settlement.Validate(b.Kind); err != nil {
			return "票据内容不合规：" + bill.ErrorMessage(err), nil
		}
		return "", nil
	}
	var content []byte
	err := t.queryRow(ctx, "SELECT content FROM bills WHERE id = ?", b.Red.OrigID).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		return "红字票据的原票据不在服务器上，请先上传原票据", nil
	}
	if err != nil {
		return "", err
	}
	var redBy string
	if err := t.queryRow(ctx, "SELECT id FROM bills WHERE red_of = ?", b.Red.OrigID).Scan(&redBy); err == nil {
		return redAlreadyReversed, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	orig, err := decodeBill(content)
	if err != nil {
		return "", err
	}
	want := bill.Reverse(orig.Settlement)
	want.Payee = b.Settlement.Payee // the cashier who reversed it
	if !bytes.Equal(want.Canonical(), b.Settlement.Canonical()) || orig.BillCode != b.Red.OrigBillCode || orig.BillNo != b.Red.OrigBillNo {
		return "红字票据的内容与原票据不对应（应整张冲销原票据）", nil
	}
	return "", nil
}

func (s *Store) numberAllocated(ctx context.Context, t *dbtx, point, code string, no int64) (bool, error) {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM segments WHERE point_code = ? AND bill_code = ? AND start_no <= ? AND end_no >= ? LIMIT 1`,
		point, code, no, no).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) insertBill(ctx context.Context, t *dbtx, p *Point, b *bill.Bill, wb *wire.Bill) error {
	var busNo, redOf any
	if b.Red == nil {
		busNo = string(b.Settlement.BusNo)
	} else {
		redOf = b.Red.OrigID
	}
	_, err := t.exec(ctx, `INSERT INTO bills (id, point_code, epoch, seq, bill_code, bill_no, check_code, kind, bus_no, payer,
		total, issued_at, red_of, content, hash, signature, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		b.ID, p.Code, p.Epoch, b.Seq, wb.BillCode, wb.BillNo, wb.CheckCode, string(b.Kind), busNo, string(b.Settlement.Payer),
		int64(b.Settlement.TotalAmt), b.IssuedTime().UnixMilli(), redOf, wb.Content, hex.EncodeToString(wb.Hash),
		wb.Signature, s.millis())
	return err
}

func (s *Store) recordConflict(ctx context.Context, t *dbtx, point string, wb *wire.Bill, reason string) error {
	_, err := t.exec(ctx, `INSERT INTO conflicts (id, point_code, bill_id, seq, bill_code, bill_no, reason, hash, content, received_at)
		VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (point_code, bill_id, hash) DO NOTHING`,
		uuid.Must(uuid.NewV7()).String(), point, wb.ID, wb.Seq, wb.BillCode, wb.BillNo, reason, hex.EncodeToString(wb.Hash),
		wb.Content, s.millis())
	return err
}

// Conflict is an upload that collided with the ledger.
type Conflict struct {
	Point    string `json:"point"`
	BillID   string `json:"billId"`
	Seq      int64  `json:"seq"`
	BillCode string `json:"billCode"`
	BillNo   int64  `json:"billNo"`
	Reason   string `json:"reason"`
}

// Conflicts lists the recorded conflicts of a point ("" for all).
func (s *Store) Conflicts(ctx context.Context, point string) ([]Conflict, error) {
	q := "SELECT point_code, bill_id, seq, bill_code, bill_no, reason FROM conflicts"
	var args []any
	if point != "" {
		q += " WHERE point_code = ?"
		args = append(args, point)
	}
	rows, err := s.query(ctx, q+" ORDER BY received_at", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		var c Conflict
		if err := rows.Scan(&c.Point, &c.BillID, &c.Seq, &c.BillCode, &c.BillNo, &c.Reason); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
