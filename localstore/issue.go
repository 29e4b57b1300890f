package localstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
)

// IssueResult is the outcome of issuing (or reversing).
type IssueResult struct {
	Bill      *StoredBill
	Duplicate bool     // the BusNo was billed before with the same content: this is that first bill
	Warnings  []string // offline limits at 80 % or more, stock alerts
}

// Issue issues a bill of kind k for a settlement, in one transaction:
// validation, BusNo idempotency (same BusNo and same content returns the
// first bill; other content is an EConflict), offline limits, the next
// number from this point's segment for the kind's bill code, signature,
// chain link, the bill row and its outbox row. Errors are *bill.Error with
// a Chinese message: EInvalid, EConflict, ELimit, ENoStock, ENotFound.
func (s *Store) Issue(ctx context.Context, k bill.Kind, in *bill.Settlement) (*IssueResult, error) {
	set := *in
	set.Normalize()
	var res *IssueResult
	err := s.tx(ctx, func(tx *sql.Tx) error {
		st, err := loadTxStation(ctx, tx)
		if err != nil {
			return err
		}
		if set.PlaceCode == "" {
			set.PlaceCode = bill.Text(st.PlaceCode)
		}
		if string(set.PlaceCode) != st.PlaceCode {
			return bill.FieldErrorf("placeCode", "开票点编码 %s 与本机开票点 %s 不符，请核对。", set.PlaceCode, st.PlaceCode)
		}
		if err := set.Validate(k); err != nil {
			return err
		}
		inputHash := bill.ContentHash(append([]byte(k+"\n"), set.Canonical()...))
		if first, err := s.byBusNo(ctx, tx, string(set.BusNo), inputHash); first != nil || err != nil {
			res = &IssueResult{Bill: first, Duplicate: true}
			return err
		}
		warnings, err := s.checkLimits(ctx, tx, st, set.TotalAmt, false)
		if err != nil {
			return err
		}
		code, err := billCodeFor(ctx, tx, k)
		if err != nil {
			return err
		}
		b := &bill.Bill{Kind: k, Settlement: set}
		busNo := string(set.BusNo)
		stored, err := s.appendBill(ctx, tx, st, code, b, &busNo, inputHash, nil)
		if err != nil {
			return err
		}
		res = &IssueResult{Bill: stored, Warnings: append(warnings, stockWarning(ctx, tx, code)...)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// byBusNo returns the bill already issued for busNo, nil if there is none,
// or an EConflict if it was issued for other content.
func (s *Store) byBusNo(ctx context.Context, tx *sql.Tx, busNo string, inputHash []byte) (*StoredBill, error) {
	var id string
	var prior []byte
	err := tx.QueryRowContext(ctx, "SELECT id, input_hash FROM bills WHERE bus_no = ?", busNo).Scan(&id, &prior)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	first, err := getBill(ctx, tx, "b.id = ?", id)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(prior, inputHash) {
		return nil, bill.Errorf(bill.EConflict, "业务流水号 %s 已开具过票据（代码 %s 号码 %s），但本次结算内容不同；同一流水号不能开具两张票据，请核对结算或使用新的流水号。",
			busNo, first.BillCode, first.BillNoText())
	}
	return first, nil
}

// txStation is the station row as an issuing transaction needs it.
type txStation struct {
	Station
	privateKey string
}

func loadTxStation(ctx context.Context, tx *sql.Tx) (*txStation, error) {
	var ts txStation
	st, err := scanStation(rowWithKey{tx.QueryRowContext(ctx, stationCols+", private_key FROM station"), &ts.privateKey})
	if err != nil {
		return nil, err
	}
	ts.Station = *st
	return &ts, nil
}

// rowWithKey scans the station columns plus the private key.
type rowWithKey struct {
	r   *sql.Row
	key *string
}

func (r rowWithKey) Scan(dest ...any) error { return r.r.Scan(append(dest, r.key)...) }

// checkLimits applies the offline limits to one more bill of total.
func (s *Store) checkLimits(ctx context.Context, tx *sql.Tx, st *txStation, total bill.Money, red bool) ([]string, error) {
	limits, err := readLimits(ctx, tx)
	if err != nil {
		return nil, err
	}
	state := bill.OfflineState{Count: st.UnsyncedCount, Amount: st.UnsyncedAmount}
	var oldest sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT MIN(created_at) FROM outbox WHERE acked_at IS NULL").Scan(&oldest); err != nil {
		return nil, err
	}
	if oldest.Valid {
		state.Oldest = fromMillis(oldest.Int64)
	}
	return limits.Check(state, s.now(), total, red)
}

// appendBill numbers, seals and stores b as the next link of the chain,
// with its outbox row, and moves the chain head and unsynced counters.
func (s *Store) appendBill(ctx context.Context, tx *sql.Tx, st *txStation, code string, b *bill.Bill,
	busNo *string, inputHash []byte, redOf *string) (*StoredBill, error) {
	key, err := signingKeys.get(st.privateKey)
	if err != nil {
		return nil, err
	}
	no, err := takeNumber(ctx, tx, code)
	if err != nil {
		return nil, err
	}
	now := s.now()
	b.ID = uuid.Must(uuid.NewV7()).String()
	b.BillCode, b.BillNo, b.PlaceCode = code, bill.FormatBillNo(no), st.PlaceCode
	b.IssuedAt = bill.FormatIssuedAt(now)
	b.Seq, b.PrevHash = st.ChainSeq+1, st.ChainHash
	b.UnitName, b.UnitCode = st.UnitName, st.UnitCreditCode
	sealed, err := bill.Seal(b, key)
	if err != nil {
		return nil, err
	}
	hash := hexString(sealed.Hash)
	set := &b.Settlement
	_, err = tx.ExecContext(ctx, `INSERT INTO bills (id, seq, bill_code, bill_no, check_code, kind, bus_no, payer,
		card_no, patient_no, total, issued_at, payee, red_of, input_hash, content, prev_hash, hash, signature)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		b.ID, b.Seq, code, no, sealed.CheckCode, string(b.Kind), busNo, string(set.Payer), string(set.CardNo),
		string(set.PatientNo), int64(set.TotalAmt), b.IssuedTime().UnixMilli(), string(set.Payee), redOf, inputHash,
		sealed.Content, b.PrevHash, hash, sealed.Signature)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO outbox (bill_id, seq, created_at) VALUES (?,?,?)",
		b.ID, b.Seq, nowMillis(now)); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE station SET chain_seq = ?, chain_hash = ?,
		unsynced_count = unsynced_count + 1, unsynced_amount = unsynced_amount + ?`,
		b.Seq, hash, int64(absMoney(set.TotalAmt))); err != nil {
		return nil, err
	}
	sb := &StoredBill{ID: b.ID, Seq: b.Seq, Kind: b.Kind, BillCode: code, BillNo: no, CheckCode: sealed.CheckCode,
		Payer: string(set.Payer), PatientNo: string(set.PatientNo), Total: set.TotalAmt, IssuedAt: b.IssuedTime(),
		Payee: string(set.Payee), Bill: b}
	if busNo != nil {
		sb.BusNo = *busNo
	}
	if b.Red != nil {
		sb.RedOf = b.Red.OrigID
	}
	return sb, nil
}

// stockWarning warns when the bill code's remaining numbers fell below the
// alert threshold.
func stockWarning(ctx context.Context, tx *sql.Tx, code string) []string {
	var remaining int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(end_no - next_no + 1), 0) FROM segments
		WHERE bill_code = ? AND next_no <= end_no`, code).Scan(&remaining); err != nil {
		return nil
	}
	threshold, err := readStockAlert(ctx, tx)
	if err != nil || remaining >= threshold {
		return nil
	}
	return []string{stockAlertText(code, remaining)}
}

func stockAlertText(code string, remaining int64) string {
	return "库存预警：票据代码 " + code + " 仅剩 " + itoa(remaining) + " 个号码，请联网以便自动申请新号段。"
}

func absMoney(m bill.Money) bill.Money {
	if m < 0 {
		return -m
	}
	return m
}

// UnsyncedSince is the issue time of the oldest bill not yet acknowledged
// by the server, and false when every bill is.
func (s *Store) UnsyncedSince(ctx context.Context) (time.Time, bool, error) {
	var oldest sql.NullInt64
	if err := s.read.QueryRowContext(ctx, "SELECT MIN(created_at) FROM outbox WHERE acked_at IS NULL").Scan(&oldest); err != nil {
		return time.Time{}, false, err
	}
	return fromMillis(oldest.Int64), oldest.Valid, nil
}
