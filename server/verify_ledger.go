package server

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	gosync "sync"
	"time"

	"github.com/ebill/ebill/bill"
)

// VerifyLedger checks everything the ledger holds against itself (issue
// 20: after a restore, before trusting a backup, on a schedule):
//
//   - every bill: its content opens (personal numbers), its hash is the
//     SM3 of that content, its signature verifies with the key of the
//     enrollment that signed it, its check code comes from the signature,
//     and its columns say what its content says;
//   - every chain (point and enrollment): sequence 1, 2, 3… with each
//     bill linked to the one before, and the point's head on its last bill;
//   - every segment inside its bill code's stock, no two overlapping, and
//     every bill's number inside a segment of its point and enrollment;
//   - every paper number inside its point's paper, a printed one on a bill;
//   - the audit trail's keyed chain.
//
// It changes nothing. Bills are read a page at a time and checked on
// every core.

// LedgerReport is what VerifyLedger found.
type LedgerReport struct {
	Bills        int64           `json:"bills"`
	Chains       int64           `json:"chains"`
	Segments     int64           `json:"segments"`
	PaperUses    int64           `json:"paperUses"`
	AuditRecords int64           `json:"auditRecords"`
	Unchecked    int64           `json:"unchecked"` // bills whose enrollment's key is unknown: signature not checked
	Problems     []LedgerProblem `json:"problems"`
	More         int64           `json:"more"` // problems beyond the first MaxLedgerProblems
	Took         time.Duration   `json:"took"`
}

// LedgerProblem is one thing that does not hold.
type LedgerProblem struct {
	Where   string `json:"where"` // "票据 35060126 0000000001", "开票点 P01 第 2 次注册", "号段 …", "审计"
	Message string `json:"message"`
}

// MaxLedgerProblems bounds the problems a report lists.
const MaxLedgerProblems = 1000

// OK says that nothing is wrong.
func (r *LedgerReport) OK() bool { return len(r.Problems) == 0 }

func (r *LedgerReport) add(where, format string, args ...any) {
	if len(r.Problems) >= MaxLedgerProblems {
		r.More++
		return
	}
	r.Problems = append(r.Problems, LedgerProblem{Where: where, Message: fmt.Sprintf(format, args...)})
}

// VerifyLedger runs the checks above.
func (s *Store) VerifyLedger(ctx context.Context) (*LedgerReport, error) {
	if _, err := s.authorize(ctx, PermBackup); err != nil {
		return nil, err
	}
	started := time.Now()
	rep := &LedgerReport{}
	keys, err := s.epochKeys(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.verifyBills(ctx, keys, rep); err != nil {
		return nil, err
	}
	if err := s.verifySegments(ctx, rep); err != nil {
		return nil, err
	}
	if err := s.verifyPaper(ctx, rep); err != nil {
		return nil, err
	}
	n, err := s.VerifyAudit(ctx)
	rep.AuditRecords = n
	if bill.ErrorCode(err) == bill.ETampered {
		rep.add("审计", "%s", bill.ErrorMessage(err))
	} else if err != nil {
		return nil, err
	}
	rep.Took = time.Since(started)
	return rep, s.tx(ctx, func(t *dbtx) error {
		return t.audit(ctx, "ledger.verify", "", map[string]any{"bills": rep.Bills, "problems": len(rep.Problems) + int(rep.More)})
	})
}

type epochKey struct {
	point string
	epoch int64
}

// epochKeys is the public key of every enrollment: point_epochs, and for
// enrollments before it, the keys the audit trail recorded at enrollment
// (the n-th enrollment of a point is its epoch n).
func (s *Store) epochKeys(ctx context.Context) (map[epochKey]*bill.PublicKey, error) {
	keys := map[epochKey]*bill.PublicKey{}
	rows, err := s.query(ctx, "SELECT point_code, epoch, public_key FROM point_epochs")
	if err != nil {
		return nil, err
	}
	pems := map[epochKey]string{}
	for rows.Next() {
		var k epochKey
		var pem string
		if err := rows.Scan(&k.point, &k.epoch, &pem); err != nil {
			rows.Close()
			return nil, err
		}
		pems[k] = pem
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.query(ctx, "SELECT target, detail FROM audit WHERE action IN ('point.enroll', 'point.server_key') ORDER BY seq")
	if err != nil {
		return nil, err
	}
	count := map[string]int64{}
	for rows.Next() {
		var point, detail string
		if err := rows.Scan(&point, &detail); err != nil {
			rows.Close()
			return nil, err
		}
		count[point]++
		var d struct {
			PublicKey string `json:"publicKey"`
		}
		k := epochKey{point, count[point]}
		if _, ok := pems[k]; !ok && json.Unmarshal([]byte(detail), &d) == nil && d.PublicKey != "" {
			pems[k] = d.PublicKey
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for k, pem := range pems {
		if pub, err := bill.ParsePublicKeyPEM(pem); err == nil {
			keys[k] = pub
		}
	}
	return keys, nil
}

// ledgerRow is a stored bill as verifyBills reads it.
type ledgerRow struct {
	id, point, code, checkCode, kind, hash, redOf string
	epoch, seq, no, total                         int64
	content, sealed, signature                    []byte
	b                                             *bill.Bill // decoded, once checked
	problem                                       string
	unchecked                                     bool
}

const verifyPage = 2000

func (s *Store) verifyBills(ctx context.Context, keys map[epochKey]*bill.PublicKey, rep *LedgerReport) error {
	heads := map[string][2]any{} // point → its recorded chain head (epoch's seq, hash)
	var current = map[string]int64{}
	rows, err := s.query(ctx, "SELECT code, epoch, chain_seq, chain_hash FROM points")
	if err != nil {
		return err
	}
	for rows.Next() {
		var code, hash string
		var epoch, seq int64
		if err := rows.Scan(&code, &epoch, &seq, &hash); err != nil {
			rows.Close()
			return err
		}
		heads[code], current[code] = [2]any{seq, hash}, epoch
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var chain epochKey
	var wantSeq int64
	prevHash := ""
	lastOf := map[string][2]any{} // point → (seq, hash) of the last bill of its current epoch
	endChain := func() {
		if chain.point != "" {
			rep.Chains++
		}
	}
	after := epochKey{"", -1}
	afterSeq := int64(-1)
	for {
		page, err := s.billPage(ctx, after, afterSeq)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		s.checkRows(page, keys)
		for i := range page {
			r := &page[i]
			rep.Bills++
			where := "票据 " + r.code + " " + bill.FormatBillNo(r.no)
			if k := (epochKey{r.point, r.epoch}); k != chain {
				endChain()
				chain, wantSeq, prevHash = k, 1, bill.GenesisHash
			}
			if r.seq != wantSeq {
				rep.add(where, "开票点 %s 第 %d 次注册的链序号应为 %d，实际为 %d：其前的票据缺失", r.point, r.epoch, wantSeq, r.seq)
			}
			if r.unchecked {
				rep.Unchecked++
			}
			if r.problem != "" {
				rep.add(where, "%s", r.problem)
			} else if r.b.PrevHash != prevHash {
				rep.add(where, "与前一张票据（链序号 %d）的链接断开", r.seq-1)
			}
			wantSeq, prevHash = r.seq+1, r.hash
			if r.epoch == current[r.point] {
				lastOf[r.point] = [2]any{r.seq, r.hash}
			}
		}
		last := page[len(page)-1]
		after, afterSeq = epochKey{last.point, last.epoch}, last.seq
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	endChain()
	for point, head := range heads {
		got, ok := lastOf[point]
		if !ok {
			got = [2]any{int64(0), bill.GenesisHash}
		}
		if head[0].(int64) != got[0].(int64) || head[1].(string) != got[1].(string) {
			rep.add("开票点 "+point, "链尾记录为第 %d 张，实际最后一张为第 %d 张：票据缺失或链尾被改动", head[0], got[0])
		}
	}
	return nil
}

// billPage reads the bills after (point, epoch, seq), in chain order.
func (s *Store) billPage(ctx context.Context, after epochKey, afterSeq int64) ([]ledgerRow, error) {
	rows, err := s.query(ctx, `SELECT id, point_code, epoch, seq, bill_code, bill_no, check_code, kind, total, COALESCE(red_of, ''),
		content, pii, hash, signature FROM bills
		WHERE point_code > ? OR (point_code = ? AND (epoch > ? OR (epoch = ? AND seq > ?)))
		ORDER BY point_code, epoch, seq LIMIT ?`, after.point, after.point, after.epoch, after.epoch, afterSeq, verifyPage)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var page []ledgerRow
	for rows.Next() {
		var r ledgerRow
		if err := rows.Scan(&r.id, &r.point, &r.epoch, &r.seq, &r.code, &r.no, &r.checkCode, &r.kind, &r.total, &r.redOf,
			&r.content, &r.sealed, &r.hash, &r.signature); err != nil {
			return nil, err
		}
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return page, nil
}

// checkRows verifies a page's bills on every core.
func (s *Store) checkRows(page []ledgerRow, keys map[epochKey]*bill.PublicKey) {
	work := make(chan *ledgerRow)
	var wg gosync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				s.checkRow(r, keys[epochKey{r.point, r.epoch}])
			}
		}()
	}
	for i := range page {
		work <- &page[i]
	}
	close(work)
	wg.Wait()
}

func (s *Store) checkRow(r *ledgerRow, pub *bill.PublicKey) {
	content, err := s.pii.Open(r.content, r.sealed, []byte(r.id))
	if err != nil {
		r.problem = "证件号、电话号码的加密部分无法解开（数据密钥不符或被改动）"
		return
	}
	hash, err := hex.DecodeString(r.hash)
	if err != nil {
		r.problem = "哈希值损坏"
		return
	}
	if pub == nil {
		// The key of this enrollment is unknown: the hash and the content are still checked.
		r.unchecked = true
		if hex.EncodeToString(bill.ContentHash(content)) != r.hash {
			r.problem = "票据内容与其哈希值不符（内容被改动）"
			return
		}
		var b bill.Bill
		if err := json.Unmarshal(content, &b); err != nil {
			r.problem = "票据内容无法解析"
			return
		}
		r.b = &b
	} else {
		b, err := bill.Open(content, hash, r.signature, r.checkCode, pub)
		if err != nil {
			r.problem = bill.ErrorMessage(err)
			return
		}
		r.b = b
	}
	b := r.b
	var differs []string
	if b.ID != r.id {
		differs = append(differs, "标识")
	}
	if b.Seq != r.seq {
		differs = append(differs, "链序号")
	}
	if b.BillCode != r.code || b.BillNo != bill.FormatBillNo(r.no) {
		differs = append(differs, "票据代码/号码")
	}
	if b.PlaceCode != r.point {
		differs = append(differs, "开票点")
	}
	if string(b.Kind) != r.kind {
		differs = append(differs, "种类")
	}
	if int64(b.Settlement.TotalAmt) != r.total {
		differs = append(differs, "金额")
	}
	if (b.Red != nil) != (r.redOf != "") || (b.Red != nil && b.Red.OrigID != r.redOf) {
		differs = append(differs, "红冲关系")
	}
	if len(differs) > 0 {
		r.problem = strings.Join(differs, "、") + "与签名内容不符（数据库中的列被改动）"
	}
}

// verifySegments: segments inside their stock, none overlapping, every
// bill's number inside a segment of its point and enrollment.
func (s *Store) verifySegments(ctx context.Context, rep *LedgerReport) error {
	type seg struct {
		point, code string
		epoch       int64
		start, end  int64
	}
	rows, err := s.query(ctx, `SELECT g.point_code, g.epoch, g.bill_code, g.start_no, g.end_no, COALESCE(k.code, ''), COALESCE(k.start_no, 0), COALESCE(k.end_no, 0)
		FROM segments g LEFT JOIN stock k ON k.id = g.stock_id ORDER BY g.bill_code, g.start_no`)
	if err != nil {
		return err
	}
	var prev *seg
	for rows.Next() {
		var g seg
		var stockCode string
		var stockStart, stockEnd int64
		if err := rows.Scan(&g.point, &g.epoch, &g.code, &g.start, &g.end, &stockCode, &stockStart, &stockEnd); err != nil {
			rows.Close()
			return err
		}
		rep.Segments++
		where := fmt.Sprintf("号段 %s %s–%s（%s）", g.code, bill.FormatBillNo(g.start), bill.FormatBillNo(g.end), g.point)
		if stockCode != g.code || g.start < stockStart || g.end > stockEnd || g.start > g.end {
			rep.add(where, "不在入库的票源范围内")
		}
		if prev != nil && prev.code == g.code && g.start <= prev.end {
			rep.add(where, "与号段 %s–%s（%s）重叠：同一号码分给了两处", bill.FormatBillNo(prev.start), bill.FormatBillNo(prev.end), prev.point)
		}
		if prev == nil || prev.code != g.code || g.end > prev.end {
			p := g
			prev = &p
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Bills outside every segment of their point and enrollment.
	rows, err = s.query(ctx, `SELECT b.bill_code, b.bill_no, b.point_code FROM bills b WHERE NOT EXISTS (
		SELECT 1 FROM segments g WHERE g.point_code = b.point_code AND g.epoch = b.epoch AND g.bill_code = b.bill_code
		AND b.bill_no BETWEEN g.start_no AND g.end_no) LIMIT ?`, MaxLedgerProblems)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var code, point string
		var no int64
		if err := rows.Scan(&code, &no, &point); err != nil {
			return err
		}
		rep.add("票据 "+code+" "+bill.FormatBillNo(no), "号码不在开票点 %s 本次注册分得的任何号段内", point)
	}
	return rows.Err()
}

// verifyPaper: each paper number used is inside paper assigned to its
// point, and a printed one belongs to a bill of that point.
func (s *Store) verifyPaper(ctx context.Context, rep *LedgerReport) error {
	if err := s.queryRow(ctx, "SELECT COUNT(*) FROM paper_usage").Scan(&rep.PaperUses); err != nil {
		return err
	}
	rows, err := s.query(ctx, `SELECT u.paper_code, u.paper_no, u.point_code, u.status,
		EXISTS (SELECT 1 FROM point_paper pp WHERE pp.point_code = u.point_code AND pp.paper_code = u.paper_code
			AND u.paper_no BETWEEN pp.start_no AND pp.end_no)
		OR NOT EXISTS (SELECT 1 FROM point_paper pp WHERE pp.point_code = u.point_code AND pp.paper_code = u.paper_code),
		COALESCE((SELECT b.point_code FROM bills b WHERE b.id = u.bill_id), '')
		FROM paper_usage u`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var code, point, status, billPoint string
		var no int64
		var assigned bool
		if err := rows.Scan(&code, &no, &point, &status, &assigned, &billPoint); err != nil {
			return err
		}
		where := fmt.Sprintf("纸质票据 %s %s", code, bill.FormatBillNo(no))
		if !assigned {
			rep.add(where, "不在分给开票点 %s 的纸质票据范围内", point)
		}
		if status == "printed" && billPoint != point {
			rep.add(where, "记为已打印，但没有对应的本开票点电子票据")
		}
	}
	return rows.Err()
}
