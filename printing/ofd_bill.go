package printing

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/pii"
)

// BillOFDTags are the face's fields an e-bill OFD tags (Tags/Tag_Bill.xml
// names the TextObject showing each).
var BillOFDTags = []string{"billCode", "billNo", "checkCode", "date", "payer", "total"}

// BillOFD is the e-bill as OFD (issue 21): the face and detail pages of
// Face, the bill's code, number, check code, issue date and total in
// CustomDatas, the fields tagged, and the signed bill as a hidden
// attachment (bill.json, see BillOFDData) — with personal numbers masked:
// whoever holds the file reads it all (security.md PI-1, PI-2).
// The file is not signed; signing with the hospital's registered seal is a
// separate step (ofd.md §1, §9) through OFDOptions.Signer.
func BillOFD(info BillInfo, f *Font) ([]byte, error) {
	b := info.Bill
	data, err := billOFDData(info)
	if err != nil {
		return nil, err
	}
	total := b.Settlement.TotalAmt.String()
	opt := OFDOptions{
		Created: b.IssuedTime(),
		CustomData: [][2]string{
			{"票据代码", b.BillCode}, {"票据号码", b.BillNo}, {"校验码", info.CheckCode},
			{"开票日期", b.IssuedTime().In(bill.Beijing).Format("2006-01-02")}, {"合计金额", total},
			{"交款人", string(b.Settlement.Payer)}, {"开票单位", b.UnitName}, {"native-producer", "ebill"},
		},
		Attachment:   &OFDAttachment{Name: "bill.json", Format: "json", Data: data},
		Tags:         BillOFDTags,
		TagNamespace: "urn:ebill:bill:1",
	}
	return OFD(Face(info, f), f, opt)
}

// BillOFDData is the OFD's hidden attachment bill.json: the bill's
// canonical content as the billing point signed it, and the signature.
// Personal numbers are masked as the face prints them (a person's ID
// 350203********1234, phone 138****5678, card, insurance and bank
// numbers; any other ID or mobile number too, in a remark say) and Masked
// is true: the signature then no longer verifies over Content, and the
// bill is checked at VerifyURL (the server keeps the original). Without
// masking, Content is byte for byte what Signature signs (SM2 with the
// point's key).
type BillOFDData struct {
	Format    string          `json:"format"` // BillOFDFormat
	Content   json.RawMessage `json:"content"`
	Masked    bool            `json:"masked"`
	CheckCode string          `json:"checkCode"`
	Signature []byte          `json:"signature,omitempty"` // ASN.1, base64 in JSON
	VerifyURL string          `json:"verifyUrl,omitempty"`
}

// BillOFDFormat names the layout of bill.json.
const BillOFDFormat = "ebill-bill/1"

func billOFDData(info BillInfo) ([]byte, error) {
	signed, err := info.Bill.Canonical()
	if err != nil {
		return nil, err
	}
	// The fields that hold personal numbers, as the face prints them
	// (security.md PI-1, PI-2: the file goes to phones): ID, phone, card,
	// insurance and bank numbers, e-mail and WeChat openID; then any ID or
	// mobile number elsewhere (a remark).
	masked := *info.Bill
	st := &masked.Settlement
	st.IDCardNo = bill.Text(bill.PayerID(st))
	st.Tel = bill.Text(bill.MaskPhone(string(st.Tel)))
	st.Email = bill.Text(maskEmail(string(st.Email)))
	for _, f := range []*bill.Text{&st.CardNo, &st.MedicalInsuranceID, &st.AccountNo, &st.OpenID} {
		*f = bill.Text(bill.MaskID(string(*f)))
	}
	content, err := masked.Canonical()
	if err != nil {
		return nil, err
	}
	pii.Mask(content)
	return json.Marshal(BillOFDData{Format: BillOFDFormat, Content: content, Masked: !bytes.Equal(content, signed),
		CheckCode: info.CheckCode, Signature: info.Signature, VerifyURL: info.VerifyURL})
}

// maskEmail keeps an address's first character and its domain:
// zhangsan@example.cn → z*******@example.cn.
func maskEmail(e string) string {
	at := strings.LastIndex(e, "@")
	if at <= 0 {
		return bill.MaskID(e)
	}
	r := []rune(e[:at])
	return string(r[0]) + strings.Repeat("*", len(r)-1) + e[at:]
}
