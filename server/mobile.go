package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	gosync "sync"
	"time"

	"github.com/ebill/ebill/bill"
)

// The patients' mobile API (domain.md §6), for the hospital's app or a
// WeChat mini program: a patient proves who they are with the card number
// and name on their bills and a one-time code sent to the phone number
// on their latest bill, then lists their bills and downloads the PDFs.

// Sender delivers one-time codes (an SMS gateway in production).
type Sender interface {
	Send(ctx context.Context, phone, text string) error
}

// LogSender writes each message as a JSON line to a file: the sender for
// sites without an SMS gateway, and for tests.
type LogSender struct {
	Path string
	mu   gosync.Mutex
}

func (l *LogSender) Send(_ context.Context, phone, text string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	line, _ := json.Marshal(map[string]string{"at": time.Now().UTC().Format(time.RFC3339), "phone": phone, "text": text})
	_, err = f.Write(append(line, '\n'))
	return err
}

// Mobile-code limits.
const (
	MobileCodeTTL      = 5 * time.Minute
	MobileCodeInterval = time.Minute // between two codes for one card
	MobileCodeAttempts = 5
	MobileSessionTTL   = 30 * time.Minute
)

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// SendMobileCode sends a one-time code to the phone on the latest bill of a
// card, if the name matches. It answers the same whether or not the card is
// known, so it cannot be used to find out who has been a patient.
func (s *Store) SendMobileCode(ctx context.Context, sender Sender, cardNo, name string) error {
	if cardNo == "" || name == "" {
		return bill.Errorf(bill.EInvalid, "请输入就诊卡号和姓名。")
	}
	var id, payer string
	var content, sealed []byte
	err := s.queryRow(ctx, "SELECT id, payer, content, pii FROM bills WHERE card_no = ? AND red_of IS NULL ORDER BY issued_at DESC LIMIT 1",
		cardNo).Scan(&id, &payer, &content, &sealed)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && payer != name) {
		return nil
	}
	if err != nil {
		return err
	}
	b, err := s.storedBill(id, content, sealed)
	if err != nil {
		return err
	}
	phone := string(b.Settlement.Tel)
	if phone == "" {
		return nil
	}
	var sentAt int64
	err = s.queryRow(ctx, "SELECT sent_at FROM mobile_codes WHERE card_no = ?", cardNo).Scan(&sentAt)
	if err == nil && s.millis()-sentAt < MobileCodeInterval.Milliseconds() {
		// Not again within the interval — but the same answer as for a card
		// unknown here, so the answer tells nobody who is a patient.
		s.log.Info("mobile code not resent within the interval")
		return nil
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	err = s.tx(ctx, func(t *dbtx) error {
		_, err := t.exec(ctx, `INSERT INTO mobile_codes (card_no, name, code_hash, expires_at, attempts, sent_at) VALUES (?,?,?,?,0,?)
			ON CONFLICT (card_no) DO UPDATE SET name = excluded.name, code_hash = excluded.code_hash, expires_at = excluded.expires_at,
			attempts = 0, sent_at = excluded.sent_at`, cardNo, name, hashSecret(cardNo+"|"+code), s.millis()+MobileCodeTTL.Milliseconds(), s.millis())
		return err
	})
	if err != nil {
		return err
	}
	// Sent after the answer: how long the SMS gateway takes must not tell
	// a known card from an unknown one.
	go func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := sender.Send(sctx, phone, fmt.Sprintf("【医疗电子票据】验证码 %s，5 分钟内有效。请勿告诉他人。", code)); err != nil {
			s.log.Error("mobile code not sent", "err", err)
		}
	}()
	return nil
}

// OpenMobileSession checks a one-time code and opens a session of the card.
func (s *Store) OpenMobileSession(ctx context.Context, cardNo, name, code string) (string, error) {
	deny := bill.Errorf(bill.EUnauthorized, "验证码不正确或已过期，请重新获取。")
	var token string
	var failure error
	err := s.tx(ctx, func(t *dbtx) error {
		failure = nil
		var stored, storedName string
		var expires, attempts int64
		err := t.queryRow(ctx, "SELECT code_hash, name, expires_at, attempts FROM mobile_codes WHERE card_no = ?"+s.forUpdate(), cardNo).
			Scan(&stored, &storedName, &expires, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			failure = deny
			return nil
		}
		if err != nil {
			return err
		}
		if expires < s.millis() || attempts >= MobileCodeAttempts || storedName != name {
			failure = deny
			return nil
		}
		if subtle.ConstantTimeCompare([]byte(stored), []byte(hashSecret(cardNo+"|"+code))) != 1 {
			failure = deny
			_, err := t.exec(ctx, "UPDATE mobile_codes SET attempts = attempts + 1 WHERE card_no = ?", cardNo)
			return err
		}
		raw := make([]byte, 24)
		rand.Read(raw)
		token = base64.RawURLEncoding.EncodeToString(raw)
		if _, err := t.exec(ctx, "DELETE FROM mobile_codes WHERE card_no = ?", cardNo); err != nil {
			return err
		}
		_, err = t.exec(ctx, "INSERT INTO mobile_sessions (token_hash, card_no, name, expires_at) VALUES (?,?,?,?)",
			hashSecret(token), cardNo, name, s.millis()+MobileSessionTTL.Milliseconds())
		return err
	})
	if err != nil {
		return "", err
	}
	return token, failure
}

// mobileSession returns the card and name of a session token.
func (s *Store) mobileSession(ctx context.Context, token string) (string, string, error) {
	var card, name string
	err := s.queryRow(ctx, "SELECT card_no, name FROM mobile_sessions WHERE token_hash = ? AND expires_at > ?", hashSecret(token), s.millis()).
		Scan(&card, &name)
	if err != nil {
		return "", "", bill.Errorf(bill.EUnauthorized, "登录已过期，请重新获取验证码。")
	}
	return card, name, nil
}

// MobileBill is one bill in the patient's list.
type MobileBill struct {
	BillCode  string `json:"billBatchCode"`
	BillNo    string `json:"billNo"`
	CheckCode string `json:"random"`
	Kind      string `json:"kind"`
	Total     string `json:"totalAmt"`
	IssuedAt  string `json:"createTime"`
	State     string `json:"state"` // 正常, 已冲红, 红字
	Unit      string `json:"unitName"`
}

// MobileBills lists the bills of a session's card and name, newest first.
func (s *Store) MobileBills(ctx context.Context, token string) ([]MobileBill, error) {
	card, name, err := s.mobileSession(ctx, token)
	if err != nil {
		return nil, err
	}
	found, err := s.billsWithContent(ctx, "WHERE card_no = ? AND payer = ? ORDER BY issued_at DESC LIMIT 500", card, name)
	if err != nil {
		return nil, err
	}
	out := []MobileBill{}
	for _, lb := range found {
		state, err := s.stateOf(ctx, lb)
		if err != nil {
			return nil, err
		}
		out = append(out, MobileBill{BillCode: lb.BillCode, BillNo: lb.BillNo, CheckCode: lb.CheckCode, Kind: lb.Kind.Name(),
			Total: lb.Total.String(), IssuedAt: bill.FormatBusDateTime(lb.IssuedAt), State: state, Unit: lb.Bill.UnitName})
	}
	return out, nil
}

// MobileBill returns one of the session's bills in full (for its PDF or OFD).
func (s *Store) MobileBill(ctx context.Context, token, code string, no int64) (*LedgerBill, error) {
	card, name, err := s.mobileSession(ctx, token)
	if err != nil {
		return nil, err
	}
	lb, err := s.LedgerBill(ctx, code, no)
	if err != nil {
		return nil, err
	}
	if string(lb.Bill.Settlement.CardNo) != card || lb.Payer != name {
		return nil, bill.Errorf(bill.ENotFound, "未找到票据 %s %s。", code, bill.FormatBillNo(no))
	}
	return lb, nil
}
