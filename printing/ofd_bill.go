package printing

import (
	"encoding/json"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/pii"
)

// BillOFDTags are the face's fields an e-bill OFD tags (Tags/Tag_Bill.xml
// names the TextObject showing each).
var BillOFDTags = []string{"billCode", "billNo", "checkCode", "date", "payer", "total"}

// BillOFD is the e-bill as OFD (issue 21): the face and detail pages of
// Face, the bill's code, number, check code, issue date and total in
// CustomDatas, the fields tagged, and the bill's data as a hidden
// attachment (bill.json) — with every ID and mobile number masked: whoever
// holds the file reads it all (security.md PI-1). The file is not signed;
// signing with the hospital's registered seal is a separate step (ofd.md
// §1, §9).
func BillOFD(info BillInfo, f *Font) ([]byte, error) {
	b := info.Bill
	data, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	for _, sp := range pii.Find(data) {
		for i := range sp.Raw {
			data[sp.Off+i] = '*'
		}
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
