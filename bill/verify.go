package bill

import (
	"crypto/subtle"
	"encoding/hex"
	"net/url"
	"strings"

	"github.com/emmansun/gmsm/sm3"
)

// VerifyPath is the path of the server's verification page under its public
// address; the QR code on every bill opens it.
const VerifyPath = "/v"

// VerifyRef is what a patient's verification link carries (domain.md §6):
// the bill's code, number and check code, its issue date and total, and a
// short signature over them so that a link cannot be edited to show
// another bill's figures.
type VerifyRef struct {
	BillCode  string
	BillNo    string // 10 digits
	CheckCode string
	Date      string // issue date in Beijing time, yyyyMMdd
	Amount    string // total in yuan, e.g. 123.45 or -123.45
	Token     string // VerifyToken of the fields above
}

// NewVerifyRef builds the reference of a sealed bill from its signature.
func NewVerifyRef(b *Bill, checkCode string, signature []byte) VerifyRef {
	r := VerifyRef{
		BillCode:  b.BillCode,
		BillNo:    b.BillNo,
		CheckCode: checkCode,
		Date:      b.IssuedTime().In(Beijing).Format("20060102"),
		Amount:    b.Total().String(),
	}
	r.Token = r.token(signature)
	return r
}

// token is the first 4 bytes, in hex, of SM3 over the fields and the bill's
// signature: only a holder of the signed bill (the billing point, the
// server) can compute it, and anyone holding the bill can check it.
func (r VerifyRef) token(signature []byte) string {
	h := sm3.New()
	h.Write([]byte(strings.Join([]string{r.BillCode, r.BillNo, r.CheckCode, r.Date, r.Amount}, "|")))
	h.Write([]byte{'|'})
	h.Write(signature)
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// Valid reports whether r's token matches the bill's signature.
func (r VerifyRef) Valid(signature []byte) bool {
	return subtle.ConstantTimeCompare([]byte(r.token(signature)), []byte(r.Token)) == 1
}

// URL writes the verification link under base, the server's public address
// (e.g. https://pj.example-hospital.cn). Short parameter names keep the QR
// code small enough to scan from a paper print.
func (r VerifyRef) URL(base string) string {
	q := url.Values{}
	q.Set("c", r.BillCode)
	q.Set("n", r.BillNo)
	q.Set("k", r.CheckCode)
	q.Set("d", r.Date)
	q.Set("a", r.Amount)
	q.Set("s", r.Token)
	return strings.TrimRight(base, "/") + VerifyPath + "?" + q.Encode()
}

// ParseVerifyQuery reads the parameters of a verification link.
func ParseVerifyQuery(q url.Values) VerifyRef {
	return VerifyRef{BillCode: q.Get("c"), BillNo: q.Get("n"), CheckCode: q.Get("k"),
		Date: q.Get("d"), Amount: q.Get("a"), Token: q.Get("s")}
}
