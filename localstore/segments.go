package localstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
)

// Segment sources.
const (
	SourceServer = "server" // allocated by ebill-server
	SourceDemo   = "demo"   // made locally by `ebill init --demo`; never uploaded as real stock
)

// SegmentInfo is a number segment held by this point and how far it is used.
type SegmentInfo struct {
	ID string
	bill.Segment
	Next    int64 // next unused number; End+1 when used up
	Source  string
	AddedAt time.Time
}

// Remaining is how many numbers of the segment are unused.
func (s SegmentInfo) Remaining() int64 { return s.Segment.Remaining(s.Next) }

// AddSegment records a segment allocated to this point. A segment that
// overlaps one already held is refused: a number must never be issued twice.
// Adding the very same segment again (a retried pull) is a no-op that
// returns the existing id.
func (s *Store) AddSegment(ctx context.Context, seg bill.Segment, source string) (string, error) {
	var id string
	err := s.tx(ctx, func(tx *wtx) error {
		var err error
		id, err = s.addSegmentTx(ctx, tx, seg, source)
		return err
	})
	return id, err
}

func (s *Store) addSegmentTx(ctx context.Context, tx *wtx, seg bill.Segment, source string) (string, error) {
	if err := bill.CheckBillCode(seg.Code); err != nil {
		return "", err
	}
	if err := seg.Validate(); err != nil {
		return "", err
	}
	id := uuid.Must(uuid.NewV7()).String()
	err := func() error {
		var oldID string
		var start, end int64
		err := tx.QueryRowContext(ctx, `SELECT id, start_no, end_no FROM segments
			WHERE bill_code = ? AND start_no <= ? AND end_no >= ? ORDER BY start_no LIMIT 1`,
			seg.Code, seg.End, seg.Start).Scan(&oldID, &start, &end)
		switch {
		case err == nil && start == seg.Start && end == seg.End:
			id = oldID
			return nil
		case err == nil:
			return bill.Errorf(bill.EConflict, "号段 %s 与已有号段 %s 重叠，已拒绝；请联系票据管理员核对。",
				seg, bill.Segment{Code: seg.Code, Start: start, End: end})
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO segments (id, bill_code, start_no, end_no, source, added_at)
			VALUES (?,?,?,?,?,?)`, id, seg.Code, seg.Start, seg.End, source, nowMillis(s.now()))
		return err
	}()
	return id, err
}

// Segments lists every segment held, by bill code and start.
func (s *Store) Segments(ctx context.Context) ([]SegmentInfo, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, bill_code, start_no, end_no, `+usedUpTo+` + 1, source, added_at
		FROM segments s ORDER BY bill_code, start_no`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SegmentInfo
	for rows.Next() {
		var si SegmentInfo
		var added int64
		if err := rows.Scan(&si.ID, &si.Code, &si.Start, &si.End, &si.Next, &si.Source, &added); err != nil {
			return nil, err
		}
		si.AddedAt = fromMillis(added)
		out = append(out, si)
	}
	return out, rows.Err()
}

// CodeStock sums the segments of one bill code.
type CodeStock struct {
	BillCode  string
	Total     int64 // numbers received in segments
	Used      int64
	Remaining int64
	Alert     bool  // Remaining below the alert threshold
	Threshold int64 // the threshold in force
	Next      int64 // the number the next bill will get; 0 when none is left
}

// Stock returns the stock of every bill code held, with the stock alert.
func (s *Store) Stock(ctx context.Context) ([]CodeStock, error) {
	segs, err := s.Segments(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(ctx, s.read)
	if err != nil {
		return nil, err
	}
	threshold := cfg.stockAlert
	var out []CodeStock
	for _, sg := range segs {
		if len(out) == 0 || out[len(out)-1].BillCode != sg.Code {
			out = append(out, CodeStock{BillCode: sg.Code, Threshold: threshold})
		}
		cs := &out[len(out)-1]
		cs.Total += sg.Len()
		cs.Remaining += sg.Remaining()
		if cs.Next == 0 && sg.Remaining() > 0 {
			cs.Next = sg.Next
		}
	}
	for i := range out {
		out[i].Used = out[i].Total - out[i].Remaining
		out[i].Alert = out[i].Remaining < threshold
	}
	return out, nil
}

// usedUpTo is, for segment row s, the highest number used in it (start-1
// when none is): an index probe on bills (bill_code, bill_no).
const usedUpTo = `COALESCE((SELECT MAX(b.bill_no) FROM bills b WHERE b.bill_code = s.bill_code
	AND b.bill_no BETWEEN s.start_no AND s.end_no), s.start_no - 1)`

// qTakeNumber finds the next number of a bill code: the lowest segment with
// numbers left, and the number after the highest used in it. The bill that
// takes it is inserted in the same transaction, whose write lock makes this
// read-then-insert safe; UNIQUE (bill_code, bill_no) is the backstop.
const qTakeNumber = `SELECT id, used + 1, end_no - used - 1 FROM (SELECT id, start_no, end_no, ` + usedUpTo + ` AS used
	FROM segments s WHERE bill_code = ? AND full = 0) WHERE used < end_no ORDER BY start_no LIMIT 1`

// qSegmentFull marks a segment whose last number was just taken.
const qSegmentFull = "UPDATE segments SET full = 1 WHERE id = ?"

// takeNumber picks the next unused number of billCode, from the lowest
// segment that has one left.
// It also returns how many numbers that segment has left.
func takeNumber(ctx context.Context, tx *wtx, billCode string) (no, left int64, err error) {
	var id string
	err = tx.QueryRowContext(ctx, qTakeNumber, billCode).Scan(&id, &no, &left)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, bill.Errorf(bill.ENoStock, "票据代码 %s 的号段已用完，无法开票；请联网获取新号段（同步服务会自动申请），或联系票据管理员分配号段。", billCode)
	}
	if err == nil && left == 0 {
		_, err = tx.ExecContext(ctx, qSegmentFull, id)
	}
	return no, left, err
}
