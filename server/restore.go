package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/sync/wire"
)

// A ledger restored from an older backup does not know what happened
// after the backup: bills uploaded, segments allocated, paper used. It
// must never hand out a number again (issue 20). So a restore:
//
//   - retires what the server's own points (HIS issuing) had not used of
//     their segments at the backup: numbers they issued after it are gone
//     from the ledger but not from patients' hands;
//   - moves every e-bill stock's next number forward by a gap, past what
//     the server may have allocated to its own points after the backup;
//   - holds all allocation until every enrolled station has reported what
//     it holds (POST /api/v1/held, the first step of each sync pass). The
//     server learns from the reports the segments it allocated after the
//     backup, and tells each station how far its chain and paper go, so
//     that the station sends again what the server lost.

// DefaultRestoreGap is how far a restore moves each e-bill stock forward.
const DefaultRestoreGap = 10000

// RestoreSummary is what MarkRestored did.
type RestoreSummary struct {
	Points  []string `json:"points"`  // stations the allocation now waits for
	Retired []string `json:"retired"` // server points' segment remainders retired, "code start–end (point)"
	Skipped []string `json:"skipped"` // stock numbers skipped by the gap, "code start–end"
}

// MarkRestored is run once on a ledger just restored from source.
func (s *Store) MarkRestored(ctx context.Context, source string, gap int64) (*RestoreSummary, error) {
	if _, err := s.authorize(ctx, PermBackup); err != nil {
		return nil, err
	}
	if gap < 0 {
		return nil, bill.Errorf(bill.EInvalid, "跳过的号码数不能为负数。")
	}
	sum := &RestoreSummary{}
	now := s.millis()
	err := s.tx(ctx, func(t *dbtx) error {
		*sum = RestoreSummary{}
		// Server points: the unused part of each segment is retired.
		rows, err := t.query(ctx, `SELECT g.id, g.point_code, g.bill_code, g.start_no, g.end_no,
			COALESCE((SELECT MAX(b.bill_no) FROM bills b WHERE b.bill_code = g.bill_code AND b.bill_no BETWEEN g.start_no AND g.end_no), g.start_no - 1)
			FROM segments g JOIN points p ON p.code = g.point_code WHERE p.kind = 'server'`)
		if err != nil {
			return err
		}
		type cut struct {
			id          string
			end, newEnd int64
		}
		var cuts []cut
		for rows.Next() {
			var id, point, code string
			var start, end, used int64
			if err := rows.Scan(&id, &point, &code, &start, &end, &used); err != nil {
				rows.Close()
				return err
			}
			if used < end {
				cuts = append(cuts, cut{id, end, used})
				sum.Retired = append(sum.Retired, fmt.Sprintf("%s %s–%s（%s）", code, bill.FormatBillNo(used+1), bill.FormatBillNo(end), point))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range cuts {
			if _, err := t.exec(ctx, "UPDATE segments SET end_no = ? WHERE id = ?", c.newEnd, c.id); err != nil {
				return err
			}
		}
		// The gap.
		if gap > 0 {
			rows, err := t.query(ctx, "SELECT id, code, next_no, end_no FROM stock WHERE kind = 'einvoice' AND next_no <= end_no")
			if err != nil {
				return err
			}
			type move struct {
				id   string
				next int64
			}
			var moves []move
			for rows.Next() {
				var id, code string
				var next, end int64
				if err := rows.Scan(&id, &code, &next, &end); err != nil {
					rows.Close()
					return err
				}
				to := min(end+1, next+gap)
				moves = append(moves, move{id, to})
				sum.Skipped = append(sum.Skipped, fmt.Sprintf("%s %s–%s", code, bill.FormatBillNo(next), bill.FormatBillNo(to-1)))
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, m := range moves {
				if _, err := t.exec(ctx, "UPDATE stock SET next_no = ? WHERE id = ?", m.next, m.id); err != nil {
					return err
				}
			}
		}
		// Stations: allocation waits for each enrolled one.
		rows, err = t.query(ctx, "SELECT code FROM points WHERE kind = 'station' AND public_key IS NOT NULL AND revoked_at IS NULL ORDER BY code")
		if err != nil {
			return err
		}
		for rows.Next() {
			var code string
			if err := rows.Scan(&code); err != nil {
				rows.Close()
				return err
			}
			sum.Points = append(sum.Points, code)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "DELETE FROM restore_hold"); err != nil {
			return err
		}
		for _, p := range sum.Points {
			if _, err := t.exec(ctx, "INSERT INTO restore_hold (point_code, restored_at) VALUES (?, ?)", p, now); err != nil {
				return err
			}
		}
		return t.audit(ctx, "ledger.restore", source, sum)
	})
	return sum, err
}

// allocationHeld is the stations a restored server still waits for; a
// new segment is cut only when there are none.
func (s *Store) allocationHeld(ctx context.Context, t *dbtx) ([]string, error) {
	rows, err := t.query(ctx, "SELECT point_code FROM restore_hold WHERE reported_at IS NULL AND released_by = '' ORDER BY point_code")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var waiting []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		waiting = append(waiting, p)
	}
	return waiting, rows.Err()
}

// errAllocationHeld says why no segment is cut after a restore.
func errAllocationHeld(waiting []string) error {
	list := strings.Join(waiting[:min(len(waiting), 10)], "、")
	if len(waiting) > 10 {
		list += fmt.Sprintf(" 等 %d 个", len(waiting))
	}
	return bill.Errorf(bill.ELimit, "服务器刚从备份恢复，正在等待开票点 %s 联网上报持有的号段，之后才分配新号段（本机已有的号码可照常使用）。"+
		"如某开票点已停用，请管理员执行 ebill-server restore-release --point 开票点。", list)
}

// ReportHeld takes a station's report of what it holds. While the point is
// under a restore hold, a segment the ledger does not know is learned
// (when it clashes with nothing and lies in the stock) and the hold on the
// point ends. It answers how far the point's chain and paper go here.
func (s *Store) ReportHeld(ctx context.Context, point string, held []wire.HeldSegment) (*wire.HeldResponse, error) {
	if len(held) > 10000 {
		return nil, bill.Errorf(bill.EInvalid, "上报的号段过多（%d 个）。", len(held))
	}
	for _, h := range held {
		if bill.CheckBillCode(h.BillCode) != nil || h.Start < 1 || h.End < h.Start || h.Next < h.Start || h.Next > h.End+1 {
			return nil, bill.Errorf(bill.EInvalid, "上报的号段 %s %d–%d（下一号码 %d）不正确。", Truncate(h.BillCode, 20), h.Start, h.End, h.Next)
		}
	}
	resp := &wire.HeldResponse{}
	err := s.tx(ctx, func(t *dbtx) error {
		// A plain read: nothing else cuts segments while the point is held
		// (Allocate refuses), and a report without a hold learns nothing.
		p, err := scanPoint(t.queryRow(ctx, pointCols+" WHERE code = ?", point))
		if err != nil {
			return err
		}
		resp.ChainSeq = p.ChainSeq
		var used, voided int64
		if err := t.queryRow(ctx, `SELECT COALESCE((SELECT MAX(used_at) FROM paper_usage WHERE point_code = ?), 0),
			COALESCE((SELECT MAX(voided_at) FROM paper_usage WHERE point_code = ?), 0)`, point, point).Scan(&used, &voided); err != nil {
			return err
		}
		resp.PaperUpTo = max(used, voided)
		var holds int
		if err := t.queryRow(ctx, "SELECT COUNT(*) FROM restore_hold WHERE point_code = ? AND reported_at IS NULL", point).Scan(&holds); err != nil {
			return err
		}
		if holds == 0 {
			return nil // no restore, or reported already: nothing to learn
		}
		type line struct {
			wire.HeldSegment
			Known   bool   `json:"known"`
			Learned bool   `json:"learned,omitempty"`
			Problem string `json:"problem,omitempty"`
		}
		var lines []line
		for _, h := range held {
			l := line{HeldSegment: h}
			var n int
			if err := t.queryRow(ctx, "SELECT COUNT(*) FROM segments WHERE point_code = ? AND epoch = ? AND bill_code = ? AND start_no = ? AND end_no = ?",
				p.Code, p.Epoch, h.BillCode, h.Start, h.End).Scan(&n); err != nil {
				return err
			}
			if l.Known = n > 0; l.Known {
				lines = append(lines, l)
				continue
			}
			var other string
			var os_, oe int64
			switch err := t.queryRow(ctx, "SELECT point_code, start_no, end_no FROM segments WHERE bill_code = ? AND start_no <= ? AND end_no >= ? LIMIT 1",
				h.BillCode, h.End, h.Start).Scan(&other, &os_, &oe); {
			case err == nil:
				l.Problem = fmt.Sprintf("与服务器记录的号段 %s–%s（%s）重叠", bill.FormatBillNo(os_), bill.FormatBillNo(oe), other)
			case !errors.Is(err, sql.ErrNoRows):
				return err
			default:
				var stockID string
				var next int64
				err := t.queryRow(ctx, "SELECT id, next_no FROM stock WHERE kind = 'einvoice' AND code = ? AND start_no <= ? AND end_no >= ?",
					h.BillCode, h.Start, h.End).Scan(&stockID, &next)
				if errors.Is(err, sql.ErrNoRows) {
					l.Problem = "不在任何入库的票源内"
					break
				}
				if err != nil {
					return err
				}
				if _, err := t.exec(ctx, `INSERT INTO segments (id, point_code, epoch, bill_code, start_no, end_no, stock_id, request_id, allocated_at)
					VALUES (?,?,?,?,?,?,?,?,?)`, uuid.Must(uuid.NewV7()).String(), p.Code, p.Epoch, h.BillCode, h.Start, h.End, stockID,
					"learned:"+uuid.Must(uuid.NewV7()).String(), s.millis()); err != nil {
					return err
				}
				if next <= h.End {
					if _, err := t.exec(ctx, "UPDATE stock SET next_no = ? WHERE id = ?", h.End+1, stockID); err != nil {
						return err
					}
				}
				l.Learned = true
				if err := t.audit(ctx, "segment.learned", p.Code, h); err != nil {
					return err
				}
			}
			lines = append(lines, l)
		}
		report, _ := json.Marshal(lines)
		_, err = t.exec(ctx, "UPDATE restore_hold SET reported_at = ?, report = ? WHERE point_code = ?", s.millis(), string(report), point)
		return err
	})
	return resp, err
}

// RestoreHold is one station's state after a restore.
type RestoreHold struct {
	Point      string          `json:"point"`
	RestoredAt time.Time       `json:"restoredAt"`
	ReportedAt time.Time       `json:"reportedAt,omitzero"`
	ReleasedBy string          `json:"releasedBy,omitempty"`
	Report     json.RawMessage `json:"report,omitempty"` // its segments: known, learned, or a problem
}

// RestoreStatus lists the stations a restore waits or waited for.
func (s *Store) RestoreStatus(ctx context.Context) ([]RestoreHold, error) {
	if _, err := s.authorize(ctx, PermBackup); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, "SELECT point_code, restored_at, reported_at, released_by, report FROM restore_hold ORDER BY point_code")
	return collect(rows, err, func(r interface{ Scan(...any) error }) (*RestoreHold, error) {
		var h RestoreHold
		var restored int64
		var reported *int64
		var report string
		if err := r.Scan(&h.Point, &restored, &reported, &h.ReleasedBy, &report); err != nil {
			return nil, err
		}
		h.RestoredAt = time.UnixMilli(restored).UTC()
		if reported != nil {
			h.ReportedAt = time.UnixMilli(*reported).UTC()
		}
		if report != "" {
			h.Report = json.RawMessage(report)
		}
		return &h, nil
	})
}

// ReleaseRestoreHold stops waiting for a station (one that is switched off
// for good, or will be enrolled again), so that allocation can resume.
func (s *Store) ReleaseRestoreHold(ctx context.Context, point string) error {
	if _, err := s.authorize(ctx, PermBackup); err != nil {
		return err
	}
	who := actorOf(ctx).Who
	if who == "" {
		who = "system"
	}
	return s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "UPDATE restore_hold SET released_by = ? WHERE point_code = ? AND reported_at IS NULL AND released_by = ''", who, point)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bill.Errorf(bill.ENotFound, "开票点 %s 不在等待上报的名单中。", point)
		}
		return t.audit(ctx, "ledger.restore_release", point, nil)
	})
}
