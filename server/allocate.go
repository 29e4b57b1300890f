package server

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/sync/wire"
)

// errStockMoved is returned inside an allocation when the stock row changed
// under it; the transaction is retried.
var errStockMoved = errors.New("stock pointer moved")

// Allocate cuts the next segment of billCode from the received stock for a
// point (赋码). The request id makes it idempotent: a retry returns the
// segment the first request got. Segments never overlap: the stock row is
// locked (PostgreSQL) or the database is (SQLite) while its pointer moves.
func (s *Store) Allocate(ctx context.Context, point, billCode, requestID string) (wire.Segment, error) {
	requestID = strings.TrimSpace(requestID)
	if requestID == "" || len(requestID) > 100 {
		return wire.Segment{}, bill.Errorf(bill.EInvalid, "申请号段须带请求标识（requestId），不超过100个字符。")
	}
	if err := bill.CheckBillCode(billCode); err != nil {
		return wire.Segment{}, err
	}
	var seg wire.Segment
	err := s.tx(ctx, func(t *dbtx) error {
		// The point's row is locked: its allocations are decided one at a
		// time, so two cannot both pass the cap on held numbers.
		p, err := scanPoint(t.queryRow(ctx, pointCols+" WHERE code = ?"+s.forUpdate(), point))
		if errors.Is(err, sql.ErrNoRows) {
			return bill.Errorf(bill.ENotFound, "未找到开票点 %s。", point)
		}
		if err != nil {
			return err
		}
		var fresh bool
		if seg, fresh, err = s.allocateTx(ctx, t, p, billCode, requestID); err != nil || !fresh {
			return err
		}
		return t.audit(ctx, "segment.allocate", p.Code, seg)
	})
	return seg, err
}

// allocateTx returns the segment, and whether it was cut now (not a retry).
func (s *Store) allocateTx(ctx context.Context, t *dbtx, p *Point, billCode, requestID string) (wire.Segment, bool, error) {
	var seg wire.Segment
	err := t.queryRow(ctx, "SELECT id, bill_code, start_no, end_no FROM segments WHERE point_code = ? AND request_id = ?",
		p.Code, requestID).Scan(&seg.ID, &seg.BillCode, &seg.Start, &seg.End)
	switch {
	case err == nil && seg.BillCode != billCode:
		return seg, false, bill.Errorf(bill.EConflict, "请求标识 %s 已用于申请票据代码 %s 的号段。", requestID, seg.BillCode)
	case err == nil:
		return seg, false, nil // a retry: the same segment
	case !errors.Is(err, sql.ErrNoRows):
		return seg, false, err
	}
	if waiting, err := s.allocationHeld(ctx, t); err != nil {
		return seg, false, err
	} else if len(waiting) > 0 {
		return seg, false, errAllocationHeld(waiting)
	}
	if !p.DisabledAt.IsZero() {
		return seg, false, bill.Errorf(bill.EForbidden, "开票点 %s 已停用，不再分配新的票据号码；已开具的票据仍可上传。如需恢复请联系票据管理员启用。", p.Code)
	}
	if p.Kind == PointStation {
		// A station may hold only so many unused numbers (security.md: a
		// stolen or misbehaving station cannot drain the stock).
		limit := p.Settings.MaxHeld
		if limit <= 0 {
			limit = 3 * p.Settings.SegmentSize
		}
		var held int64
		if err := t.queryRow(ctx, `SELECT COALESCE(SUM(end_no - start_no + 1), 0)
			- (SELECT COUNT(*) FROM bills WHERE point_code = ? AND epoch = ? AND bill_code = ?)
			FROM segments WHERE point_code = ? AND epoch = ? AND bill_code = ?`, p.Code, p.Epoch, billCode, p.Code, p.Epoch, billCode).Scan(&held); err != nil {
			return seg, false, err
		}
		if held >= limit {
			return seg, false, bill.Errorf(bill.ELimit, "开票点 %s 的票据代码 %s 还有 %d 个号码未用或未上传（上限 %d），暂不分配新号段；请先上传已开票据。"+
				"如确需更多，请票据管理员调整该开票点的“持有号码上限”。", p.Code, billCode, held, limit)
		}
	}
	var stockID string
	var next, end int64
	err = t.queryRow(ctx, `SELECT id, next_no, end_no FROM stock WHERE kind = 'einvoice' AND code = ? AND next_no <= end_no
		ORDER BY start_no LIMIT 1`+s.forUpdate(), billCode).Scan(&stockID, &next, &end)
	if errors.Is(err, sql.ErrNoRows) {
		return seg, false, bill.Errorf(bill.ENoStock, "票据代码 %s 的电子票据号码已全部分配，请先入库新的票源。", billCode)
	}
	if err != nil {
		return seg, false, err
	}
	last := min(next+p.Settings.SegmentSize-1, end)
	res, err := t.exec(ctx, "UPDATE stock SET next_no = ? WHERE id = ? AND next_no = ?", last+1, stockID, next)
	if err != nil {
		return seg, false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return seg, false, errStockMoved
	}
	seg = wire.Segment{ID: uuid.Must(uuid.NewV7()).String(), BillCode: billCode, Start: next, End: last}
	_, err = t.exec(ctx, `INSERT INTO segments (id, point_code, epoch, bill_code, start_no, end_no, stock_id, request_id, allocated_at)
		VALUES (?,?,?,?,?,?,?,?,?)`, seg.ID, p.Code, p.Epoch, billCode, seg.Start, seg.End, stockID, requestID, s.millis())
	return seg, err == nil, err
}

// SegmentInfo is an allocated segment as the administrator sees it.
type SegmentInfo struct {
	wire.Segment
	Point       string    `json:"point"`
	Epoch       int64     `json:"epoch"` // the enrollment of the point it was allocated to
	Used        int64     `json:"used"`  // bills the ledger holds in it
	AllocatedAt time.Time `json:"allocatedAt"`
}

// Segments lists allocated segments, of one point or of all ("").
func (s *Store) Segments(ctx context.Context, point string) ([]SegmentInfo, error) {
	q := `SELECT sg.id, sg.bill_code, sg.start_no, sg.end_no, sg.point_code, sg.epoch, sg.allocated_at,
		(SELECT COUNT(*) FROM bills b WHERE b.bill_code = sg.bill_code AND b.bill_no BETWEEN sg.start_no AND sg.end_no)
		FROM segments sg`
	var args []any
	if point != "" {
		q += " WHERE sg.point_code = ?"
		args = append(args, point)
	}
	rows, err := s.query(ctx, q+" ORDER BY sg.bill_code, sg.start_no", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SegmentInfo
	for rows.Next() {
		var si SegmentInfo
		var at int64
		if err := rows.Scan(&si.ID, &si.BillCode, &si.Start, &si.End, &si.Point, &si.Epoch, &at, &si.Used); err != nil {
			return nil, err
		}
		si.AllocatedAt = time.UnixMilli(at).UTC()
		out = append(out, si)
	}
	return out, rows.Err()
}
