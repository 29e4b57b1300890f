package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/sync/wire"
)

// UploadPaper records what became of a station's pre-printed paper
// numbers, as the station reports them after its bills: so that the
// server — the verification page, the HIS queries, the write-off — knows
// which e-bills were converted to paper. Each use is stored or answered
// with a conflict (the paper number belongs to another point, the bill is
// not this point's or not on the server yet, a voided number cannot come
// back); a conflict stores nothing for that use.
func (s *Store) UploadPaper(ctx context.Context, point string, uses []wire.PaperUse) (*wire.PaperUploadResponse, error) {
	if len(uses) == 0 || len(uses) > wire.MaxBatch {
		return nil, bill.Errorf(bill.EInvalid, "每批上传 1 至 %d 条纸质票据记录，收到 %d 条。", wire.MaxBatch, len(uses))
	}
	p, err := s.Point(ctx, point)
	if err != nil {
		return nil, err
	}
	if !p.Active() || p.Kind != PointStation {
		return nil, bill.Errorf(bill.EConflict, "开票点 %s 不是已注册的收费电脑，不能上传纸质票据记录。", point)
	}
	// Voids before prints: a reprint voids one sheet and prints the next for
	// the same bill, and a bill has one live sheet at a time.
	order := make([]int, len(uses))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return boolInt(uses[a].Status == wire.PaperPrinted) - boolInt(uses[b].Status == wire.PaperPrinted)
	})
	resp := &wire.PaperUploadResponse{Acks: make([]wire.PaperAck, len(uses))}
	err = s.tx(ctx, func(t *dbtx) error {
		stored := 0
		for _, i := range order {
			u := uses[i]
			ack := wire.PaperAck{PaperCode: u.PaperCode, PaperNo: u.PaperNo, Version: u.Version, Status: wire.AckStored}
			msg, err := s.storePaperUse(ctx, t, point, u)
			if err != nil {
				return err
			}
			if msg != "" {
				ack.Status, ack.Message = wire.AckConflict, msg
				if _, err := t.exec(ctx, `INSERT INTO paper_conflicts (id, point_code, paper_code, paper_no, status, bill_id, reason, received_at)
					VALUES (?,?,?,?,?,?,?,?)`, uuid.Must(uuid.NewV7()).String(), point, Truncate(u.PaperCode, 20), u.PaperNo,
					Truncate(u.Status, 20), Truncate(u.BillID, 40), msg, s.millis()); err != nil {
					return err
				}
			} else {
				stored++
			}
			resp.Acks[i] = ack
		}
		return t.audit(ctx, "paper.upload", point, map[string]int{"uses": len(uses), "stored": stored})
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// storePaperUse stores one use; a non-empty answer is why it was not.
func (s *Store) storePaperUse(ctx context.Context, t *dbtx, point string, u wire.PaperUse) (string, error) {
	name := fmt.Sprintf("纸质票据 %s %s", u.PaperCode, bill.FormatBillNo(u.PaperNo))
	switch {
	case u.PaperCode == "" || u.PaperNo < 1:
		return "纸质票据代码或号码为空", nil
	case u.Status != wire.PaperPrinted && u.Status != wire.PaperVoided && u.Status != wire.PaperBlankVoid:
		return fmt.Sprintf("%s 的状态 %q 不认识", name, u.Status), nil
	case (u.Status == wire.PaperBlankVoid) != (u.BillID == ""):
		return name + " 的状态与对应电子票据不符（空白作废没有电子票据，打印和作废必有）", nil
	}
	if u.BillID != "" {
		var owner string
		err := t.queryRow(ctx, "SELECT point_code FROM bills WHERE id = ?", u.BillID).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			return name + " 对应的电子票据不在服务器上（请先上传票据）", nil
		}
		if err != nil {
			return "", err
		}
		if owner != point {
			return fmt.Sprintf("%s 对应的电子票据属于开票点 %s", name, owner), nil
		}
	}
	var holder, status, heldBill string
	err := t.queryRow(ctx, "SELECT point_code, status, COALESCE(bill_id, '') FROM paper_usage WHERE paper_code = ? AND paper_no = ?", u.PaperCode, u.PaperNo).
		Scan(&holder, &status, &heldBill)
	var voidedAt any
	if u.VoidedAt > 0 {
		voidedAt = u.VoidedAt
	}
	// The server's clock marks when a use and a void were recorded: the
	// write-off's cut compares with these.
	now := s.millis()
	var voidRec any
	if u.Status != wire.PaperPrinted {
		voidRec = now
	}
	var billID any
	if u.BillID != "" {
		billID = u.BillID
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		var held int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM point_paper WHERE point_code = ? AND paper_code = ? AND start_no <= ? AND end_no >= ?
			AND returned_at IS NULL`, point, u.PaperCode, u.PaperNo, u.PaperNo).Scan(&held); err != nil {
			return "", err
		}
		if held == 0 {
			return name + " 没有分发给本开票点（请票据管理员在管理端核对纸质票据分发）", nil
		}
		if u.Status == wire.PaperPrinted {
			var live string
			err := t.queryRow(ctx, "SELECT paper_code FROM paper_usage WHERE bill_id = ? AND status = 'printed'", u.BillID).Scan(&live)
			if err == nil {
				return name + " 对应的电子票据已有另一张有效的纸质票据", nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return "", err
			}
		}
		_, err := t.exec(ctx, `INSERT INTO paper_usage (paper_code, paper_no, point_code, status, bill_id, reason, operator, used_at, voided_at, rec_at, void_rec_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`, u.PaperCode, u.PaperNo, point, u.Status, billID, u.Reason, u.Operator, u.UsedAt, voidedAt, now, voidRec)
		return "", err
	case err != nil:
		return "", err
	case holder != point:
		return fmt.Sprintf("%s 已由开票点 %s 使用", name, holder), nil
	case heldBill != u.BillID:
		return name + " 在服务器上对应另一张电子票据", nil
	case status != wire.PaperPrinted && status != u.Status:
		return fmt.Sprintf("%s 在服务器上已作废，不能再改为“%s”", name, u.Status), nil
	}
	_, err = t.exec(ctx, `UPDATE paper_usage SET status = ?, reason = ?, operator = ?, voided_at = ?, void_rec_at = COALESCE(void_rec_at, ?)
		WHERE paper_code = ? AND paper_no = ?`, u.Status, u.Reason, u.Operator, voidedAt, voidRec, u.PaperCode, u.PaperNo)
	return "", err
}
