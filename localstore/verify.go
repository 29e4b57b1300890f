package localstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ebill/ebill/bill"
)

// Problem is one finding of Verify, naming the bill it concerns.
type Problem struct {
	Seq      int64
	BillCode string
	BillNo   int64
	Message  string
}

func (p Problem) String() string {
	if p.BillCode == "" {
		return p.Message
	}
	return fmt.Sprintf("票据 %s %s（链序号 %d）：%s", p.BillCode, bill.FormatBillNo(p.BillNo), p.Seq, p.Message)
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Bills    int
	Problems []Problem
}

// OK reports whether the chain and the numbers are intact.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

// Verify checks the whole local chain: every bill's hash, SM2 signature and
// check code under this point's public key; that each links to the one
// before it with no gap or reorder and ends at the recorded chain head; that
// the indexed columns match the signed content; and that the numbers used
// in each segment are exactly the bills stored, with no hole and no
// duplicate. Edits, deletions and reorders are reported by bill.
func (s *Store) Verify(ctx context.Context) (*VerifyReport, error) {
	rep := &VerifyReport{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		st, err := scanStation(tx.QueryRowContext(ctx, stationCols+" FROM station"))
		if err != nil {
			return err
		}
		pub, err := bill.ParsePublicKeyPEM(st.PublicKeyPEM)
		if err != nil {
			return err
		}
		if err := s.verifyChain(ctx, tx, st, pub, rep); err != nil {
			return err
		}
		if err := verifyNumbers(ctx, tx, rep); err != nil {
			return err
		}
		return verifyQueue(ctx, tx, st, rep)
	})
	return rep, err
}

type chainRow struct {
	id, kind, checkCode, busNo, redOf, prevHash, hash, payer string
	seq, billNo, total, issuedAt                             int64
	code                                                     string
	content, sealed, signature                               []byte
}

func (s *Store) verifyChain(ctx context.Context, tx *sql.Tx, st *Station, pub *bill.PublicKey, rep *VerifyReport) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, seq, bill_code, bill_no, check_code, kind, COALESCE(bus_no, ''),
		COALESCE(red_of, ''), payer, total, issued_at, content, pii, prev_hash, hash, signature FROM bills ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	wantSeq, prevHash := int64(1), bill.GenesisHash
	for rows.Next() {
		var r chainRow
		if err := rows.Scan(&r.id, &r.seq, &r.code, &r.billNo, &r.checkCode, &r.kind, &r.busNo, &r.redOf, &r.payer,
			&r.total, &r.issuedAt, &r.content, &r.sealed, &r.prevHash, &r.hash, &r.signature); err != nil {
			return err
		}
		rep.Bills++
		problem := func(format string, args ...any) {
			rep.Problems = append(rep.Problems, Problem{Seq: r.seq, BillCode: r.code, BillNo: r.billNo, Message: fmt.Sprintf(format, args...)})
		}
		if r.seq != wantSeq {
			problem("链序号应为 %d，实际为 %d：其前的票据缺失或顺序被改动", wantSeq, r.seq)
		}
		if r.prevHash != prevHash {
			problem("与前一张票据的链接断开（前一张被改动、删除或顺序被调换）")
		}
		wantSeq, prevHash = r.seq+1, r.hash
		hash, err := hexDecode(r.hash)
		if err != nil {
			problem("哈希值损坏")
			continue
		}
		content, err := s.openContent(r.id, r.content, r.sealed)
		if err != nil {
			problem("证件号、电话号码的加密部分无法解开（数据密钥不符或被改动）")
			continue
		}
		b, err := bill.Open(content, hash, r.signature, r.checkCode, pub)
		if err != nil {
			problem("%s", bill.ErrorMessage(err))
			continue
		}
		if msg := compareColumns(&r, b); msg != "" {
			problem("%s", msg)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if wantSeq-1 != st.ChainSeq || prevHash != st.ChainHash {
		rep.Problems = append(rep.Problems, Problem{Message: fmt.Sprintf(
			"链尾不符：记录的最后一张票据为第 %d 张，实际为第 %d 张（最后的票据被删除或改动）", st.ChainSeq, wantSeq-1)})
	}
	return nil
}

// compareColumns checks the searchable columns against the signed content.
func compareColumns(r *chainRow, b *bill.Bill) string {
	redOf := ""
	if b.Red != nil {
		redOf = b.Red.OrigID
	}
	busNo := string(b.Settlement.BusNo)
	if b.Red != nil {
		busNo = ""
	}
	switch {
	case b.ID != r.id:
		return "票据标识与签名内容不符"
	case b.Seq != r.seq || b.PrevHash != r.prevHash:
		return "链序号或链接与签名内容不符"
	case b.BillCode != r.code || b.BillNo != bill.FormatBillNo(r.billNo):
		return fmt.Sprintf("票据代码/号码与签名内容（%s %s）不符", b.BillCode, b.BillNo)
	case string(b.Kind) != r.kind:
		return "票据种类与签名内容不符"
	case int64(b.Settlement.TotalAmt) != r.total:
		return fmt.Sprintf("金额 %s 元与签名内容 %s 元不符", bill.Money(r.total), b.Settlement.TotalAmt)
	case string(b.Settlement.Payer) != r.payer:
		return "交款人与签名内容不符"
	case busNo != r.busNo:
		return "业务流水号与签名内容不符"
	case redOf != r.redOf:
		return "红字票据的原票据与签名内容不符"
	case b.IssuedTime().UnixMilli() != r.issuedAt:
		return "开票时间与签名内容不符"
	}
	return ""
}

// verifyNumbers: in each segment, the numbers from start to next-1 are
// exactly the bills stored there, and no bill lies outside a segment.
func verifyNumbers(ctx context.Context, tx *sql.Tx, rep *VerifyReport) error {
	rows, err := tx.QueryContext(ctx, `SELECT s.bill_code, s.start_no, `+usedUpTo+` + 1,
		(SELECT COUNT(*) FROM bills b WHERE b.bill_code = s.bill_code AND b.bill_no BETWEEN s.start_no AND s.end_no),
		s.full, s.end_no FROM segments s ORDER BY s.bill_code, s.start_no`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		var start, next, count, end int64
		var full bool
		if err := rows.Scan(&code, &start, &next, &count, &full, &end); err != nil {
			return err
		}
		if full != (next > end) {
			rep.Problems = append(rep.Problems, Problem{Message: fmt.Sprintf("号段 %s 的“已用完”标记与其中的票据不符",
				bill.Segment{Code: code, Start: start, End: end})})
		}
		if used := next - start; used != count {
			rep.Problems = append(rep.Problems, Problem{Message: fmt.Sprintf(
				"号段 %s 已用到第 %d 个号码，但存有 %d 张票据：有号码缺失（票据被删除）或号码被改动",
				bill.Segment{Code: code, Start: start, End: next - 1}, used, count)})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var orphan sql.NullString
	var orphanNo sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT b.bill_code, b.bill_no FROM bills b WHERE NOT EXISTS (SELECT 1 FROM segments s
		WHERE s.bill_code = b.bill_code AND b.bill_no BETWEEN s.start_no AND s.end_no) LIMIT 1`).Scan(&orphan, &orphanNo)
	if err == nil {
		rep.Problems = append(rep.Problems, Problem{BillCode: orphan.String, BillNo: orphanNo.Int64,
			Message: "号码不在本机任何号段内"})
	} else if err != sql.ErrNoRows {
		return err
	}
	return nil
}

// verifyQueue: every bill is either waiting in the outbox or acknowledged,
// and the unsynced counters that the offline limits use match the outbox.
func verifyQueue(ctx context.Context, tx *sql.Tx, st *Station, rep *VerifyReport) error {
	var missing sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT MIN(b.seq) FROM bills b WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.seq = b.seq)
		AND NOT EXISTS (SELECT 1 FROM acks a WHERE a.seq = b.seq)`).Scan(&missing)
	if err != nil {
		return err
	}
	if missing.Valid {
		rep.Problems = append(rep.Problems, Problem{Message: fmt.Sprintf(
			"链序号 %d 的票据既不在待上传队列中也没有上传记录：待上传记录被删除，该票据可能无法上传", missing.Int64)})
	}
	var count int
	var amount int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(ABS(b.total)), 0) FROM outbox o JOIN bills b ON b.seq = o.seq`).Scan(&count, &amount); err != nil {
		return err
	}
	var oldest sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT created_at FROM outbox ORDER BY seq LIMIT 1").Scan(&oldest); err != nil && err != sql.ErrNoRows {
		return err
	}
	if oldest.Valid != !st.OldestUnsynced.IsZero() || (oldest.Valid && oldest.Int64 != st.OldestUnsynced.UnixMilli()) {
		rep.Problems = append(rep.Problems, Problem{Message: "最早待上传时间记录与待上传队列不符"})
	}
	if count != st.UnsyncedCount || bill.Money(amount) != st.UnsyncedAmount {
		rep.Problems = append(rep.Problems, Problem{Message: fmt.Sprintf(
			"离线计数不符：记录为 %d 张 %s 元，待上传队列实为 %d 张 %s 元", st.UnsyncedCount, st.UnsyncedAmount, count, bill.Money(amount))})
	}
	return nil
}
