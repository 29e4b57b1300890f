package server

import (
	"context"
	"encoding/hex"
	gosync "sync"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/sync/wire"
)

// Group commit for server-side issuing: the HIS calls of one point wait in
// a queue; one goroutine per point takes all that are waiting (up to a
// batch), numbers, chains and seals them, and stores them with one Upload —
// one verification pass and one commit for many bills, in chain order.

type issueReq struct {
	kind      bill.Kind
	st        *bill.Settlement
	canonical []byte
	done      chan issueRes
}

type issueRes struct {
	iss *Issued
	err error
}

type issuers struct {
	mu     gosync.Mutex
	queues map[string]chan *issueReq
	quit   chan struct{}
}

// queue returns the point's queue, starting its goroutine on first use.
func (s *Store) queue(point string) chan *issueReq {
	s.iss.mu.Lock()
	defer s.iss.mu.Unlock()
	if s.iss.queues == nil {
		s.iss.queues, s.iss.quit = map[string]chan *issueReq{}, make(chan struct{})
	}
	q := s.iss.queues[point]
	if q == nil {
		q = make(chan *issueReq, 4*wire.MaxBatch)
		s.iss.queues[point] = q
		go s.runIssuer(point, q, s.iss.quit)
	}
	return q
}

func (s *Store) stopIssuers() {
	s.iss.mu.Lock()
	defer s.iss.mu.Unlock()
	if s.iss.quit != nil {
		close(s.iss.quit)
		s.iss.quit, s.iss.queues = nil, nil
	}
}

func (s *Store) runIssuer(point string, q chan *issueReq, quit chan struct{}) {
	for {
		batch, ok := nextBatch(q, quit, wire.MaxBatch)
		if !ok {
			return
		}
		s.issueBatch(point, batch)
	}
}

// nextBatch waits for the first request of q, then takes every other one
// already waiting, up to max in all: a group commit takes what queued up
// while the previous one was being written. It is false when quit closes.
func nextBatch[T any](q chan T, quit chan struct{}, max int) ([]T, bool) {
	var first T
	select {
	case <-quit:
		return nil, false
	case first = <-q:
	}
	batch := []T{first}
	for len(batch) < max {
		select {
		case r := <-q:
			batch = append(batch, r)
		default:
			return batch, true
		}
	}
	return batch, true
}

// submit queues a validated settlement and waits for its bill.
func (s *Store) submit(ctx context.Context, point string, k bill.Kind, st *bill.Settlement) (*Issued, error) {
	r := &issueReq{kind: k, st: st, canonical: st.Canonical(), done: make(chan issueRes, 1)}
	select {
	case s.queue(point) <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case res := <-r.done:
		return res.iss, res.err
	case <-ctx.Done():
		return nil, ctx.Err() // the bill may still be issued: getEBillByBusNo finds it
	}
}

// numbers hands out a point's free numbers of one bill code in order,
// allocating a segment when those it holds run out.
type numbers struct {
	s    *Store
	p    *Point
	code string
	segs [][2]int64 // free ranges, in order
}

func (n *numbers) next(ctx context.Context) (int64, error) {
	for attempt := 0; ; attempt++ {
		for len(n.segs) > 0 && n.segs[0][0] > n.segs[0][1] {
			n.segs = n.segs[1:]
		}
		if len(n.segs) > 0 {
			no := n.segs[0][0]
			n.segs[0][0]++
			return no, nil
		}
		if attempt > 0 {
			return 0, bill.Errorf(bill.ENoStock, "票据代码 %s 没有可用号码；请票据管理员入库号段。", n.code)
		}
		seg, err := n.s.Allocate(ctx, n.p.Code, n.code, "server-"+uuid.Must(uuid.NewV7()).String())
		if err != nil {
			return 0, err
		}
		n.segs = append(n.segs, [2]int64{seg.Start, seg.End})
	}
}

// putBack returns the number next just gave, unused.
func (n *numbers) putBack(no int64) {
	if len(n.segs) > 0 && n.segs[0][0] == no+1 {
		n.segs[0][0] = no
		return
	}
	n.segs = append([][2]int64{{no, no}}, n.segs...)
}

// pointNumbers are a server point's free numbers, per bill code, for one
// enrollment epoch and chain head. They live between batches so that a
// batch does not read every segment the point was ever given; they are
// touched only under the point's issue lock, dropped whenever a batch fails
// (the numbers it took may not have been used, and must be handed out
// again), and read again when the chain moved without this server (another
// server issued for the point).
type pointNumbers struct {
	epoch    int64
	chainSeq int64 // the point's chain head they are good for: a bill stored by anyone else moves it
	byCode   map[string]*numbers
}

// numbersFor returns the point's free numbers of a bill code, reading them
// from the ledger when they are not held: one query over the point's
// segments, each with the highest number used in it (an index lookup).
func (s *Store) numbersFor(ctx context.Context, p *Point, code string) (*numbers, error) {
	pn, _ := s.nums.Load(p.Code)
	if pn == nil || pn.(*pointNumbers).epoch != p.Epoch || pn.(*pointNumbers).chainSeq != p.ChainSeq {
		pn = &pointNumbers{epoch: p.Epoch, chainSeq: p.ChainSeq, byCode: map[string]*numbers{}}
		s.nums.Store(p.Code, pn)
	}
	held := pn.(*pointNumbers).byCode
	if n := held[code]; n != nil {
		return n, nil
	}
	rows, err := s.query(ctx, `SELECT s.start_no, s.end_no,
			(SELECT MAX(b.bill_no) FROM bills b WHERE b.bill_code = s.bill_code AND b.bill_no BETWEEN s.start_no AND s.end_no)
		FROM segments s WHERE s.point_code = ? AND s.epoch = ? AND s.bill_code = ? ORDER BY s.start_no`, p.Code, p.Epoch, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := &numbers{s: s, p: p, code: code}
	for rows.Next() {
		var a, b int64
		var used *int64
		if err := rows.Scan(&a, &b, &used); err != nil {
			return nil, err
		}
		if used != nil {
			a = *used + 1
		}
		if a <= b {
			n.segs = append(n.segs, [2]int64{a, b})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	held[code] = n
	return n, nil
}

// forgetNumbers drops what is held of a point's free numbers.
func (s *Store) forgetNumbers(point string) { s.nums.Delete(point) }

// numbersStored moves what is held of a point's free numbers to the chain
// head this server's batch just stored: still good for the next batch.
func (s *Store) numbersStored(point string, chainSeq int64) {
	if pn, ok := s.nums.Load(point); ok {
		pn.(*pointNumbers).chainSeq = chainSeq
	}
}

// issueBatch issues a batch of one point's requests with one Upload.
func (s *Store) issueBatch(point string, batch []*issueReq) {
	ctx := WithActor(context.Background(), Actor{Who: "his", From: "server"})
	// Each request is answered exactly once; its channel holds one answer,
	// so an answer never blocks the point's goroutine, even if the caller
	// has gone away.
	answer := func(r *issueReq, iss *Issued, err error) {
		select {
		case r.done <- issueRes{iss, err}:
		default:
		}
	}
	failAll := func(rs []*issueReq, err error) {
		for _, r := range rs {
			answer(r, nil, err)
		}
	}
	unlock := s.issueLocks.lock(point)
	defer unlock()
	key, err := s.serverKey(ctx, point)
	if err != nil {
		failAll(batch, err)
		return
	}
	// BusNo idempotency: against the ledger, and within the batch.
	type pending struct {
		req  *issueReq
		also []*issueReq // the same BusNo and content, later in the batch
	}
	var todo []*pending
	byBus := map[string]*pending{}
	var buses []string
	for _, r := range batch {
		buses = append(buses, string(r.st.BusNo))
	}
	priors, err := s.billsByBusNo(ctx, point, buses)
	if err != nil {
		failAll(batch, err)
		return
	}
	for _, r := range batch {
		bus := busKey(r.kind, string(r.st.BusNo))
		if first, ok := byBus[bus]; ok {
			if first.req.kind == r.kind && string(first.req.canonical) == string(r.canonical) {
				first.also = append(first.also, r)
			} else {
				answer(r, nil, bill.Errorf(bill.EConflict, "业务流水号 %s 正在以不同内容开票；请核对，或使用新的业务流水号。", r.st.BusNo))
			}
			continue
		}
		if prior := priors[bus]; prior != nil {
			iss, err := s.priorIssue(prior, r.kind, r.canonical)
			answer(r, iss, err)
			continue
		}
		p := &pending{req: r}
		byBus[bus] = p
		todo = append(todo, p)
	}
	if len(todo) == 0 {
		return
	}
	// From here on only the pending requests are still unanswered.
	failPending := func(err error) {
		for _, pd := range todo {
			answer(pd.req, nil, err)
			failAll(pd.also, err)
		}
	}
	items := make([]toSeal, len(todo))
	for i, pd := range todo {
		items[i] = toSeal{kind: pd.req.kind, st: pd.req.st, canonical: pd.req.canonical}
	}
	issued, errs, err := s.sealAndStore(ctx, point, key, items)
	if err != nil {
		failPending(err)
		return
	}
	for i, pd := range todo {
		if errs[i] != nil {
			answer(pd.req, nil, errs[i])
			failAll(pd.also, errs[i])
			continue
		}
		answer(pd.req, issued[i], nil)
		for _, r := range pd.also {
			dup := *issued[i]
			dup.Duplicate = true
			answer(r, &dup, nil)
		}
	}
}

// toSeal is one bill to number, chain, sign and store at a server point.
type toSeal struct {
	kind      bill.Kind
	st        *bill.Settlement
	canonical []byte
	red       *bill.RedRef
}

// sealAndStore numbers, chains and signs bills at a server point, in order,
// and stores them through the upload's ledger rules (storeChecked) in one
// commit.
// errs[i] is why item i was left out (no bill code, no number); err, when
// set, means none was stored. The caller holds the point's lock.
func (s *Store) sealAndStore(ctx context.Context, point string, key *bill.PrivateKey, items []toSeal) ([]*Issued, []error, error) {
	codes, err := s.BillKinds(ctx)
	if err != nil {
		return nil, nil, err
	}
	unit, err := s.Unit(ctx)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.Point(ctx, point)
	if err != nil {
		return nil, nil, err
	}
	issued, errs := make([]*Issued, len(items)), make([]error, len(items))
	seq, prev := p.ChainSeq, p.ChainHash
	now := s.now()
	var stored []int // indexes of the items in bills
	var bills []wire.Bill
	var sealed []*bill.Sealed
	for i, it := range items {
		code := codes[it.kind]
		if code == "" {
			errs[i] = bill.Errorf(bill.EInvalid, "尚未设置%s票据使用的票据代码；请票据管理员执行 ebill-server kind set。", it.kind.Name())
			continue
		}
		src, err := s.numbersFor(ctx, p, code)
		if err != nil {
			errs[i] = err
			continue
		}
		no, err := src.next(ctx)
		if err != nil {
			errs[i] = err
			continue
		}
		b := &bill.Bill{ID: uuid.Must(uuid.NewV7()).String(), Kind: it.kind, BillCode: code, BillNo: bill.FormatBillNo(no),
			PlaceCode: point, IssuedAt: bill.FormatIssuedAt(now), Seq: seq + 1, PrevHash: prev,
			UnitName: unit.Name, UnitCode: unit.CreditCode, Red: it.red, Settlement: *it.st}
		canonical := it.canonical
		if canonical == nil {
			canonical = it.st.Canonical()
		}
		sl, err := bill.SealWith(b, canonical, key)
		if err != nil {
			src.putBack(no)
			errs[i] = err
			continue
		}
		seq, prev = b.Seq, hex.EncodeToString(sl.Hash)
		stored, sealed = append(stored, i), append(sealed, sl)
		bills = append(bills, wire.Bill{ID: b.ID, Seq: b.Seq, BillCode: code, BillNo: no, CheckCode: sl.CheckCode,
			Content: sl.Content, Hash: sl.Hash, Signature: sl.Signature})
	}
	if len(bills) == 0 {
		return issued, errs, nil
	}
	checked := make([]checkedBill, len(sealed))
	for j, sl := range sealed {
		checked[j] = checkedBill{b: &sl.Bill}
	}
	resp, err := s.storeChecked(ctx, p, bills, checked, false)
	if err != nil {
		s.forgetNumbers(point)
		return nil, nil, err
	}
	s.numbersStored(point, resp.ChainSeq)
	for j, i := range stored {
		if ack := resp.Acks[j]; ack.Status != wire.AckStored {
			s.forgetNumbers(point)
			errs[i] = bill.Errorf(bill.EInternal, "服务器开票未能保存（%s：%s）", ack.Status, ack.Message)
			continue
		}
		sl := sealed[j]
		lb := &LedgerBill{ID: sl.Bill.ID, Point: point, Seq: sl.Bill.Seq, BillCode: sl.Bill.BillCode, BillNo: sl.Bill.BillNo,
			CheckCode: sl.CheckCode, Kind: sl.Bill.Kind, Payer: string(sl.Bill.Settlement.Payer),
			Total: sl.Bill.Total(), IssuedAt: sl.Bill.IssuedTime(), ReceivedAt: now.UTC(), Bill: &sl.Bill}
		if r := sl.Bill.Red; r != nil {
			lb.RedOf, lb.RedOfBill = r.OrigID, r.OrigBillCode+" "+r.OrigBillNo
		} else {
			lb.BusNo = string(sl.Bill.Settlement.BusNo)
		}
		issued[i] = &Issued{LedgerBill: lb, Signature: sl.Signature}
	}
	return issued, errs, nil
}

// BillByBusNo is the bill a point issued for a BusNo; ENotFound when none.
func (s *Store) BillByBusNo(ctx context.Context, point, busNo string) (*LedgerBill, error) {
	lb, err := s.billByBusNo(ctx, point, busNo)
	if err == nil && lb == nil {
		return nil, bill.Errorf(bill.ENotFound, "开票点 %s 没有业务流水号为 %s 的票据。", point, busNo)
	}
	return lb, err
}

// IssueAllAt issues bills of kind k at a server point for settlements
// already normalized and validated, as one upload: all are stored, or none.
func (s *Store) IssueAllAt(ctx context.Context, point string, k bill.Kind, sts []*bill.Settlement) ([]*Issued, error) {
	if _, err := s.Point(ctx, point); err != nil {
		return nil, err
	}
	batch := make([]*issueReq, len(sts))
	for i, st := range sts {
		batch[i] = &issueReq{kind: k, st: st, canonical: st.Canonical(), done: make(chan issueRes, 1)}
	}
	s.issueBatch(point, batch)
	out := make([]*Issued, len(batch))
	var first error
	for i, r := range batch {
		res := <-r.done
		if res.err != nil && first == nil {
			first = res.err
		}
		out[i] = res.iss
	}
	if first != nil {
		return nil, first
	}
	return out, nil
}
