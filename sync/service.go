package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/sync/wire"
)

// Service keeps one station in step with the server: it uploads the
// outbox, pulls settings, segments and master data, asks for a segment when
// a bill code runs low, and reports its status. It never holds a database
// write transaction across a network call.
type Service struct {
	store   *localstore.Store
	client  *Client
	log     *slog.Logger
	version string
	now     func() time.Time
}

// NewService makes the service of an enrolled station.
func NewService(ctx context.Context, store *localstore.Store, log *slog.Logger, version string) (*Service, error) {
	c, err := ClientFor(ctx, store)
	if err != nil {
		return nil, err
	}
	return &Service{store: store, client: c, log: log, version: version, now: time.Now}, nil
}

// Report says what one pass did.
type Report struct {
	Uploaded  int      // bills the server stored or already held
	Paper     int      // paper uses (printed, voided, blank-voided numbers) the server recorded
	Rejected  int      // bills the server refused or found in conflict (kept, flagged)
	Allocated []string // segments received, "code start–end"
	Pending   int      // bills still waiting after the pass
	Resent    int      // acknowledged bills and paper records queued again: the server had lost them (restored)
	Err       error    // the first failure; nil when everything went
}

// Once runs one full pass. The report's Err is the first failure; the pass
// goes on past failures where it safely can, so that one fault does not
// stop the rest (a refused bill does not stop the pull, for instance).
func (s *Service) Once(ctx context.Context) Report {
	var r Report
	note := func(err error) {
		if err != nil && r.Err == nil {
			r.Err = err
		}
	}
	note(s.reportHeld(ctx, &r))
	if !isUnavailable(r.Err) {
		note(s.upload(ctx, &r))
	}
	if !isUnavailable(r.Err) {
		note(s.uploadPaper(ctx, &r))
	}
	if !isUnavailable(r.Err) {
		note(s.pull(ctx))
		note(s.refill(ctx, &r))
	}
	st, err := s.store.Status(ctx)
	note(err)
	if st != nil {
		r.Pending = st.Pending
	}
	s.recordState(ctx, r)
	if !isUnavailable(r.Err) && st != nil {
		msg := ""
		if r.Err != nil {
			msg = bill.ErrorMessage(r.Err)
		}
		status := wire.StationStatus{Pending: st.Pending, Rejected: st.Rejected, LastError: msg, Version: s.version}
		reads, err := s.store.ReadReceipts(ctx)
		note(err)
		var ids []string
		for _, rr := range reads {
			status.Read = append(status.Read, wire.ReadReceipt{ID: rr.ID, At: rr.At})
			ids = append(ids, rr.ID)
		}
		err = s.client.ReportStatus(ctx, status)
		note(err)
		if err == nil {
			note(s.store.MarkReadsSent(ctx, ids))
		}
	}
	return r
}

func isUnavailable(err error) bool { return bill.ErrorCode(err) == bill.EUnavailable }

// upload sends the outbox in chain order, in batches. It stops at a bill
// the server refused: the bills after it cannot be accepted before it is
// sorted out.
func (s *Service) upload(ctx context.Context, r *Report) error {
	for {
		pending, err := s.store.PendingBills(ctx, wire.MaxBatch)
		if err != nil {
			return err
		}
		var batch []wire.Bill
		for _, p := range pending {
			if p.State == "rejected" {
				break
			}
			batch = append(batch, wire.Bill{ID: p.ID, Seq: p.Seq, BillCode: p.BillCode, BillNo: p.BillNo, CheckCode: p.CheckCode,
				Content: p.Content, Hash: p.Hash, Signature: p.Signature})
		}
		if len(batch) == 0 {
			if len(pending) > 0 {
				return bill.Errorf(bill.EConflict, "有票据被服务器拒收（链序号 %d），其后的票据暂停上传；请联系票据管理员处理。", pending[0].Seq)
			}
			return nil
		}
		resp, err := s.client.Upload(ctx, batch)
		if err != nil {
			return err
		}
		var synced []string
		var refused *wire.Ack
		for i := range resp.Acks {
			a := &resp.Acks[i]
			if a.Status == wire.AckStored || a.Status == wire.AckDuplicate {
				synced = append(synced, a.ID)
				continue
			}
			refused = a
			break
		}
		if _, err := s.store.MarkSynced(ctx, synced); err != nil {
			return err
		}
		r.Uploaded += len(synced)
		if refused != nil {
			r.Rejected++
			s.log.Warn("bill refused by the server", "seq", refused.Seq, "status", refused.Status, "reason", refused.Message)
			if err := s.store.MarkRejected(ctx, refused.Seq, refused.Message); err != nil {
				return err
			}
			return bill.Errorf(bill.EConflict, "服务器拒收链序号 %d 的票据：%s；已标记，请联系票据管理员处理。", refused.Seq, refused.Message)
		}
		if len(batch) < wire.MaxBatch {
			return nil
		}
	}
}

// reportHeld tells the server what this station holds (a server restored
// from an older backup learns its lost segments from it) and queues again
// the bills and paper records the server says it does not hold.
func (s *Service) reportHeld(ctx context.Context, r *Report) error {
	segs, err := s.store.Segments(ctx)
	if err != nil {
		return err
	}
	var held []wire.HeldSegment
	for _, sg := range segs {
		if sg.Source == localstore.SourceServer {
			held = append(held, wire.HeldSegment{BillCode: sg.Code, Start: sg.Start, End: sg.End, Next: sg.Next})
		}
	}
	resp, err := s.client.ReportHeld(ctx, held)
	if errors.Is(err, ErrHeldUnsupported) {
		return nil
	}
	if err != nil {
		return err
	}
	st, err := s.store.Station(ctx)
	if err != nil {
		return err
	}
	if resp.ChainSeq > st.ChainSeq {
		// The server holds bills of this station's chain that this
		// database does not: it is older than what the station issued
		// (restored from an old backup, or replaced). Issuing on would
		// reuse those numbers and chain positions.
		reason := fmt.Sprintf("服务器已有本机开出的第 %d 张票据，而本机数据只到第 %d 张：本机数据库比实际开票进度旧（可能从旧备份恢复）。"+
			"为防止重号已停止开票。请联系票据管理员为本开票点重新注册（ebill-server point enroll-code），注册前先上传本机待上传的票据。",
			resp.ChainSeq, st.ChainSeq)
		s.log.Error("the server is ahead of this station's chain", "server", resp.ChainSeq, "station", st.ChainSeq)
		if err := s.store.BlockIssuing(ctx, reason); err != nil {
			return err
		}
		return bill.Errorf(bill.ETampered, "%s", reason)
	}
	bills, paper, err := s.store.ResendAfter(ctx, resp.ChainSeq, resp.PaperUpTo)
	r.Resent += bills + paper
	return err
}

// uploadPaper reports what became of paper numbers, after their bills. A
// use the server refuses is kept with its reason and not sent again until
// it changes; the others go on.
func (s *Service) uploadPaper(ctx context.Context, r *Report) error {
	for {
		pending, err := s.store.PendingPaper(ctx, wire.MaxBatch)
		if err != nil || len(pending) == 0 {
			return err
		}
		uses := make([]wire.PaperUse, len(pending))
		for i, p := range pending {
			uses[i] = wire.PaperUse{PaperCode: p.PaperCode, PaperNo: p.PaperNo, Status: p.Status, BillID: p.BillID, Reason: p.Reason,
				Operator: p.Operator, UsedAt: p.UsedAt, VoidedAt: p.VoidedAt, Version: p.Version}
		}
		resp, err := s.client.UploadPaper(ctx, uses)
		if errors.Is(err, ErrPaperUnsupported) {
			s.log.Info("the server does not take paper reports yet; they wait at the station")
			return nil
		}
		if err != nil {
			return err
		}
		answers := make([]localstore.PaperAnswer, len(resp.Acks))
		var refused error
		for i, a := range resp.Acks {
			answers[i] = localstore.PaperAnswer{PaperCode: a.PaperCode, PaperNo: a.PaperNo, Version: a.Version,
				Stored: a.Status == wire.AckStored, Message: a.Message}
			if answers[i].Stored {
				r.Paper++
			} else if refused == nil {
				s.log.Warn("paper use refused by the server", "paper", a.PaperCode, "no", a.PaperNo, "reason", a.Message)
				refused = bill.Errorf(bill.EConflict, "服务器未接受纸质票据记录：%s；请联系票据管理员处理。", a.Message)
			}
		}
		if err := s.store.MarkPaperSynced(ctx, answers); err != nil {
			return err
		}
		if refused != nil {
			return refused
		}
		if len(pending) < wire.MaxBatch {
			return nil
		}
	}
}

// pull brings settings, bill kinds, segments and master data up to date.
func (s *Service) pull(ctx context.Context) error {
	since, err := s.store.MasterVersion(ctx)
	if err != nil {
		return err
	}
	resp, err := s.client.Pull(ctx, since)
	if err != nil {
		return err
	}
	if err := s.store.SetLimits(ctx, resp.Settings.Limits, "server"); err != nil {
		return err
	}
	if err := s.store.SetStockAlert(ctx, resp.Settings.StockAlert, "server"); err != nil {
		return err
	}
	if err := s.store.SetRefillThreshold(ctx, resp.Settings.RefillThreshold, "server"); err != nil {
		return err
	}
	desk := localstore.DeskSettings{DefaultPayChannel: resp.Settings.DefaultPayChannel, Checker: resp.Settings.Checker}
	if err := s.store.SetDeskSettings(ctx, desk, "server"); err != nil {
		return err
	}
	for _, k := range resp.BillKinds {
		if err := s.store.SetBillKind(ctx, k.Kind, k.BillCode); err != nil {
			return err
		}
	}
	for _, sg := range resp.Segments {
		if _, err := s.store.AddSegment(ctx, bill.Segment{Code: sg.BillCode, Start: sg.Start, End: sg.End}, localstore.SourceServer); err != nil {
			return err
		}
	}
	return s.store.ApplyMasterData(ctx, LocalMasterData(resp.MasterData))
}

// refill asks for a segment of every bill code whose numbers fell below the
// refill threshold. The request id is stored before asking, so an answer
// lost on the way is asked for again with the same id and yields the same
// segment, not a second one.
func (s *Service) refill(ctx context.Context, r *Report) error {
	threshold, err := s.store.RefillThreshold(ctx)
	if err != nil {
		return err
	}
	kinds, err := s.store.BillKinds(ctx)
	if err != nil {
		return err
	}
	stock, err := s.store.Stock(ctx)
	if err != nil {
		return err
	}
	remaining := map[string]int64{}
	for _, c := range stock {
		remaining[c.BillCode] = c.Remaining
	}
	seen := map[string]bool{}
	for _, code := range kinds {
		if seen[code] || remaining[code] >= threshold {
			continue
		}
		seen[code] = true
		reqID, err := s.store.AllocationRequestID(ctx, code)
		if err != nil {
			return err
		}
		seg, err := s.client.Allocate(ctx, code, reqID)
		if err != nil {
			return fmt.Errorf("申请号段 %s：%w", code, err)
		}
		if err := s.store.AddAllocatedSegment(ctx, bill.Segment{Code: seg.BillCode, Start: seg.Start, End: seg.End}); err != nil {
			return err
		}
		r.Allocated = append(r.Allocated, fmt.Sprintf("%s %s–%s", seg.BillCode, bill.FormatBillNo(seg.Start), bill.FormatBillNo(seg.End)))
	}
	return nil
}

func (s *Service) recordState(ctx context.Context, r Report) {
	st, err := s.store.SyncState(ctx)
	if err != nil {
		s.log.Error("read sync state", "err", err)
	}
	now := s.now().UTC()
	st.LastAttempt, st.Online = now, !isUnavailable(r.Err)
	if r.Err == nil {
		st.LastSuccess, st.LastError = now, ""
	} else {
		st.LastError = bill.ErrorMessage(r.Err)
	}
	if err := s.store.SetSyncState(ctx, st); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Error("record sync state", "err", err)
	}
}
