package bill

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// FormatVersion is the version of the canonical bill encoding.
const FormatVersion = 1

// Bill is an issued bill as it is signed and chained: the header the
// billing point assigns, and the settlement it bills. A red bill carries the
// negated settlement of its original and a Red reference.
type Bill struct {
	V          int        `json:"v"`
	ID         string     `json:"id"`
	Kind       Kind       `json:"kind"`
	BillCode   string     `json:"billCode"`
	BillNo     string     `json:"billNo"`
	PlaceCode  string     `json:"placeCode"`
	IssuedAt   string     `json:"issuedAt"` // UTC, RFC 3339 with milliseconds
	Seq        int64      `json:"seq"`      // position in the billing point's chain, from 1
	PrevHash   string     `json:"prevHash"` // hex SM3 of the previous bill's content
	UnitName   string     `json:"unitName"`
	UnitCode   string     `json:"unitCreditCode"`
	Red        *RedRef    `json:"red,omitempty"`
	Settlement Settlement `json:"settlement"`
}

// RedRef names the original of a red bill and why it was reversed.
type RedRef struct {
	OrigID       string `json:"origId"`
	OrigBillCode string `json:"origBillCode"`
	OrigBillNo   string `json:"origBillNo"`
	Reason       string `json:"reason"`
	Operator     string `json:"operator"`
}

// GenesisHash is the PrevHash of a billing point's first bill.
var GenesisHash = hex.EncodeToString(make([]byte, 32))

// IssuedTime parses IssuedAt.
func (b *Bill) IssuedTime() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, b.IssuedAt)
	return t
}

// FormatIssuedAt writes t in the IssuedAt form: UTC with milliseconds.
func FormatIssuedAt(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z07:00")
}

// Total is the bill's total amount (negative for a red bill).
func (b *Bill) Total() Money { return b.Settlement.TotalAmt }

// Sealed is a bill with its canonical content, hash, signature and check
// code: what the billing point stores and uploads, and what anyone holding
// the point's public key can verify.
type Sealed struct {
	Bill      Bill
	Content   []byte // canonical encoding of Bill; what is hashed and signed
	Hash      []byte // SM3(Content), 32 bytes; the next bill's PrevHash
	Signature []byte // SM2 (ASN.1) over Content
	CheckCode string // 6 lowercase hex characters derived from Signature
}

// Canonical returns the bill's canonical encoding: what is hashed and signed.
func (b *Bill) Canonical() ([]byte, error) {
	return b.canonicalWith(b.Settlement.Canonical())
}

// canonicalWith encodes the bill around its settlement's canonical bytes,
// already computed (the BusNo fingerprint needs them too): the header is
// encoded without the settlement (the outer nil field hides the embedded
// one) and the settlement, the last field, is spliced in. The bytes equal
// those of encoding the Bill itself (TestCanonicalWithEqualsPlainEncoding).
func (b *Bill) canonicalWith(settlement []byte) ([]byte, error) {
	head, err := marshalCanonical(struct {
		*Bill
		Settlement *struct{} `json:"settlement,omitempty"`
	}{Bill: b})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+len(settlement)+16)
	out = append(out, head[:len(head)-1]...)
	out = append(out, `,"settlement":`...)
	out = append(out, settlement...)
	return append(out, '}'), nil
}

// Seal encodes b canonically, hashes, signs and derives the check code.
func Seal(b *Bill, key *PrivateKey) (*Sealed, error) {
	return SealWith(b, b.Settlement.Canonical(), key)
}

// SealWith is Seal for a caller that already holds the canonical encoding
// of b.Settlement.
func SealWith(b *Bill, settlement []byte, key *PrivateKey) (*Sealed, error) {
	b.V = FormatVersion
	content, err := b.canonicalWith(settlement)
	if err != nil {
		return nil, fmt.Errorf("bill: encode: %w", err)
	}
	sig, err := key.Sign(content)
	if err != nil {
		return nil, fmt.Errorf("bill: sign: %w", err)
	}
	h := sm3.Sum(content)
	return &Sealed{Bill: *b, Content: content, Hash: h[:], Signature: sig, CheckCode: CheckCode(sig)}, nil
}

// CheckCode derives the 6-character check code (校验码) from a signature:
// the first 3 bytes of its SM3 hash in lowercase hex. The server can recompute
// it from the uploaded signature, so a check code cannot be made up.
func CheckCode(signature []byte) string {
	h := sm3.Sum(signature)
	return hex.EncodeToString(h[:3])
}

// Open verifies a stored bill: its hash, its signature under pub and its
// check code, and decodes the content. A failure is an ETampered *Error.
func Open(content, hash, signature []byte, checkCode string, pub *PublicKey) (*Bill, error) {
	h := sm3.Sum(content)
	if subtle.ConstantTimeCompare(h[:], hash) != 1 {
		return nil, Errorf(ETampered, "票据内容与其哈希值不符（内容被改动）")
	}
	if !pub.Verify(content, signature) {
		return nil, Errorf(ETampered, "票据签名验证失败")
	}
	if CheckCode(signature) != checkCode {
		return nil, Errorf(ETampered, "校验码与签名不符")
	}
	var b Bill
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, Errorf(ETampered, "票据内容无法解析：%v", err)
	}
	if b.V != FormatVersion {
		return nil, Errorf(ETampered, "票据格式版本 %d 不受支持", b.V)
	}
	return &b, nil
}

// ContentHash is the SM3 of any bytes, used for idempotency fingerprints.
func ContentHash(b []byte) []byte {
	h := sm3.Sum(b)
	return h[:]
}

// Reverse returns the settlement of a red bill for orig: every amount
// negated, everything else kept, so the red bill cancels the original in full.
func Reverse(orig Settlement) Settlement {
	r := orig
	for _, m := range []*Money{&r.TotalAmt, &r.FundPay, &r.AccountPay, &r.OtherFundPay, &r.OwnPay,
		&r.SelfConceitedAmt, &r.SelfPayAmt, &r.SelfCashPay, &r.ReimbursementAmt, &r.CashPay, &r.CashRecharge, &r.CashRefund} {
		*m = -*m
	}
	r.ChargeDetail = append([]ChargeLine(nil), orig.ChargeDetail...)
	for i := range r.ChargeDetail {
		c := &r.ChargeDetail[i]
		c.Amt, c.SelfAmt, c.Number = -c.Amt, -c.SelfAmt, -c.Number
	}
	r.ListDetail = append([]DetailLine(nil), orig.ListDetail...)
	for i := range r.ListDetail {
		d := &r.ListDetail[i]
		d.Amt, d.SelfAmt, d.ReceivableAmt, d.Number = -d.Amt, -d.SelfAmt, -d.ReceivableAmt, -d.Number
	}
	r.PayChannelDetail = append([]PayChannel(nil), orig.PayChannelDetail...)
	for i := range r.PayChannelDetail {
		r.PayChannelDetail[i].Value = -r.PayChannelDetail[i].Value
	}
	return r
}

// randReader is the entropy source of signatures; a variable so that
// nothing else in the package reaches for crypto/rand.
var randReader = rand.Reader
