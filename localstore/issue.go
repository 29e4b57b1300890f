package localstore

import (
	"bytes"
	"context"
	"database/sql"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
)

// IssueResult is the outcome of issuing (or reversing).
type IssueResult struct {
	Bill      *StoredBill
	Duplicate bool     // the BusNo was billed before with the same content: this is that first bill
	Warnings  []string // a resident ID that fails its check, offline limits at 80 % or more, stock alerts
}

// Issue issues a bill of kind k for a settlement, in one transaction:
// validation, BusNo idempotency (same BusNo and same content returns the
// first bill; other content is an EConflict), offline limits, the next
// number from this point's segment for the kind's bill code, signature,
// chain link, the bill row and its outbox row. Errors are *bill.Error with
// a Chinese message: EInvalid, EConflict, ELimit, ENoStock, ENotFound.
func (s *Store) Issue(ctx context.Context, k bill.Kind, in *bill.Settlement) (*IssueResult, error) {
	// Everything that does not need the database happens before the
	// transaction, so that the write lock is held as briefly as possible.
	place, err := s.placeCode(ctx)
	if err != nil {
		return nil, err
	}
	set := in.Clone() // normalising must not change the caller's settlement
	set.Normalize()
	if set.PlaceCode == "" {
		set.PlaceCode = bill.Text(place)
	}
	if string(set.PlaceCode) != place {
		return nil, bill.FieldErrorf("placeCode", "开票点编码 %s 与本机开票点 %s 不符，请核对。", set.PlaceCode, place)
	}
	if err := set.Validate(k); err != nil {
		return nil, err
	}
	canon := set.Canonical()
	inputHash := bill.ContentHash(append([]byte(k+"\n"), canon...))
	var res *IssueResult
	err = s.tx(ctx, func(tx *wtx) error {
		st, prior, err := loadTxStationBusNo(ctx, tx, string(set.BusNo))
		if err != nil {
			return err
		}
		if st.PlaceCode != place {
			return bill.Errorf(bill.EConflict, "本机开票点已变更为 %s，请重新打开程序后再开票。", st.PlaceCode)
		}
		if prior.id != "" {
			first, err := s.priorBill(ctx, tx, string(set.BusNo), prior, inputHash)
			res = &IssueResult{Bill: first, Duplicate: true}
			return err
		}
		cfg, err := s.config(ctx, tx, st.ConfigVersion)
		if err != nil {
			return err
		}
		if err := cfg.issuable(); err != nil {
			return err
		}
		warnings, err := cfg.limits.Check(st.offlineState(), s.now(), set.TotalAmt, false)
		if err != nil {
			return err
		}
		code, err := cfg.billCodeFor(k)
		if err != nil {
			return err
		}
		b := &bill.Bill{Kind: k, Settlement: *set}
		busNo := string(set.BusNo)
		stored, alert, err := s.appendBill(ctx, tx, cfg, st, code, b, canon, &busNo, inputHash, nil)
		if err != nil {
			return err
		}
		res = &IssueResult{Bill: stored, Warnings: append(append(set.Warnings(), warnings...), alert...)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// placeCode is this station's billing point, read once: it never changes
// for an open store.
func (s *Store) placeCode(ctx context.Context) (string, error) {
	s.placeMu.Lock()
	defer s.placeMu.Unlock()
	if s.place == "" {
		st, err := s.Station(ctx)
		if err != nil {
			return "", err
		}
		s.place = st.PlaceCode
	}
	return s.place, nil
}

// busNoPrior is the bill already issued for a BusNo, if any.
type busNoPrior struct {
	id        string
	inputHash []byte
}

// priorBill returns the bill already issued for busNo when it was issued
// for the same content, and an EConflict when for other content.
func (s *Store) priorBill(ctx context.Context, tx *wtx, busNo string, prior busNoPrior, inputHash []byte) (*StoredBill, error) {
	first, err := s.getBill(ctx, tx, "b.id = ?", prior.id)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(prior.inputHash, inputHash) {
		return nil, bill.Errorf(bill.EConflict, "业务流水号 %s 已开具过票据（代码 %s 号码 %s），但本次结算内容不同；同一流水号不能开具两张票据，请核对结算或使用新的流水号。",
			busNo, first.BillCode, first.BillNoText())
	}
	return first, nil
}

// The statements of the issuing path (see hotQueries).
const (
	// The station row and any bill already issued for the BusNo, in one
	// statement: the two reads every issue starts with.
	qStationTx = stationCols + `, private_key,
		(SELECT id FROM bills WHERE bus_no = ?1), (SELECT input_hash FROM bills WHERE bus_no = ?1) FROM station`
	qInsertBill = `INSERT INTO bills (id, seq, bill_code, bill_no, check_code, kind, bus_no, payer, card_no,
		patient_no, total, issued_at, payee, red_of, input_hash, content, prev_hash, hash, signature, pii)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	qRemaining = `SELECT COALESCE(SUM(end_no - ` + usedUpTo + `), 0) FROM segments s WHERE bill_code = ? AND full = 0`
)

// txStation is the station row as an issuing transaction needs it.
type txStation struct {
	Station
	privateKey string
}

// loadTxStationBusNo reads the station row with its private key, and the
// bill already issued for busNo ("" reads none).
func loadTxStationBusNo(ctx context.Context, tx *wtx, busNo string) (*txStation, busNoPrior, error) {
	var ts txStation
	var id sql.NullString
	var prior busNoPrior
	st, err := scanStation(extraScan{tx.QueryRowContext(ctx, qStationTx, busNo), []any{&ts.privateKey, &id, &prior.inputHash}})
	if err != nil {
		return nil, prior, err
	}
	ts.Station, prior.id = *st, id.String
	return &ts, prior, nil
}

// loadTxStation reads the station row with its private key.
func loadTxStation(ctx context.Context, tx *wtx) (*txStation, error) {
	st, _, err := loadTxStationBusNo(ctx, tx, "")
	return st, err
}

// extraScan scans the station columns plus extra destinations.
type extraScan struct {
	r     *sql.Row
	extra []any
}

func (r extraScan) Scan(dest ...any) error { return r.r.Scan(append(dest, r.extra...)...) }

// offlineState is what the station has not uploaded, for the offline limits.
func (st *Station) offlineState() bill.OfflineState {
	return bill.OfflineState{Count: st.UnsyncedCount, Amount: st.UnsyncedAmount, Oldest: st.OldestUnsynced}
}

// appendBill numbers, seals and stores b as the next link of the chain,
// with its outbox row, and moves the chain head and unsynced counters (the
// bills_enqueue trigger does those two in the insert itself). It
// returns the stored bill and a stock alert when numbers run low.
func (s *Store) appendBill(ctx context.Context, tx *wtx, cfg config, st *txStation, code string, b *bill.Bill,
	settlementCanon []byte, busNo *string, inputHash []byte, redOf *string) (*StoredBill, []string, error) {
	key, err := s.keys.get(st.privateKey)
	if err != nil {
		return nil, nil, err
	}
	no, segLeft, err := takeNumber(ctx, tx, code)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	b.ID = uuid.Must(uuid.NewV7()).String()
	b.BillCode, b.BillNo, b.PlaceCode = code, bill.FormatBillNo(no), st.PlaceCode
	b.IssuedAt = bill.FormatIssuedAt(now)
	b.Seq, b.PrevHash = st.ChainSeq+1, st.ChainHash
	b.UnitName, b.UnitCode = st.UnitName, st.UnitCreditCode
	sealed, err := bill.SealWith(b, settlementCanon, key)
	if err != nil {
		return nil, nil, err
	}
	hash := hexString(sealed.Hash)
	set := &b.Settlement
	content, pii := s.pii.Seal(sealed.Content, []byte(b.ID))
	_, err = tx.ExecContext(ctx, qInsertBill,
		b.ID, b.Seq, code, no, sealed.CheckCode, string(b.Kind), busNo, string(set.Payer), string(set.CardNo),
		string(set.PatientNo), int64(set.TotalAmt), b.IssuedTime().UnixMilli(), string(set.Payee), redOf, inputHash,
		content, b.PrevHash, hash, sealed.Signature, pii)
	if err != nil {
		return nil, nil, err
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
	var alert []string
	if segLeft < cfg.stockAlert { // only then is the whole code's stock worth summing
		alert = stockWarning(ctx, tx, cfg, code)
	}
	return sb, alert, nil
}

// stockWarning warns when the bill code's remaining numbers fell below the
// alert threshold.
func stockWarning(ctx context.Context, tx *wtx, cfg config, code string) []string {
	var remaining int64
	if err := tx.QueryRowContext(ctx, qRemaining, code).Scan(&remaining); err != nil {
		return nil
	}
	if remaining >= cfg.stockAlert {
		return nil
	}
	return []string{stockAlertText(code, remaining)}
}

func stockAlertText(code string, remaining int64) string {
	return "库存预警：票据代码 " + code + " 仅剩 " + itoa(remaining) + " 个号码，请联网以便自动申请新号段。"
}
