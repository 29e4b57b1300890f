package his

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// The medical API's queries: bills in a period (paged), daily totals for
// reconciliation, and the kiosk calls.

// parseMedicalDate reads the dates HIS clients send: yyyyMMddHHmmssSSS,
// yyyyMMddHHmmss, yyyyMMdd or yyyy-MM-dd[ HH:mm:ss], Beijing time.
func parseMedicalDate(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"20060102150405.000", "20060102150405", "20060102", "2006-01-02 15:04:05", "2006-01-02"} {
		v := s
		if layout == "20060102150405.000" && len(s) == 17 {
			v = s[:14] + "." + s[14:]
		}
		if t, err := time.ParseInLocation(layout, v, bill.Beijing); err == nil {
			return t, nil
		}
	}
	return time.Time{}, failMedical(ResultInvalid, "%s 日期 %q 格式不正确，应为 yyyyMMddHHmmssSSS 或 yyyyMMdd", field, s)
}

// parsePeriodEnd reads the end of a period: a time is the end itself, a
// date (yyyyMMdd or yyyy-MM-dd) covers that whole day.
func parsePeriodEnd(field, s string) (time.Time, error) {
	t, err := parseMedicalDate(field, s)
	if err == nil && len(strings.TrimSpace(s)) <= 10 {
		t = t.AddDate(0, 0, 1)
	}
	return t, err
}

// dayRange is [start of the day, start of the next) for a date.
func dayRange(field, s string) (time.Time, time.Time, error) {
	t, err := parseMedicalDate(field, s)
	if err != nil {
		return t, t, err
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, bill.Beijing)
	return day, day.AddDate(0, 0, 1), nil
}

// placesOf is the points a query covers: the one asked for (if the caller
// may see it) or all of the caller's.
func placesOf(app *server.HISApp, place bill.Text) ([]string, error) {
	if place == "" {
		return app.Points, nil
	}
	if !app.MayActFor(string(place)) {
		return nil, failMedical(ResultNotYourPoint, "应用 %s 无权查询开票点 %s", app.AppID, place)
	}
	return []string{string(place)}, nil
}

// billListItem is one bill of a list answer, with every field of the
// reference's list item (bosssoft-v3.md §10, getEBillUnPrintList) always
// present — clients name the fields from the first item — and the fields
// this server answered before (createTime, payer, isScarlet).
type billListItem struct {
	BusDate             string `json:"busDate"`
	BusNo               string `json:"busNo"`
	BusType             string `json:"busType"`
	PlaceCode           string `json:"placeCode"`
	BillName            string `json:"billName"`
	BillBatchCode       string `json:"billBatchCode"`
	BillNo              string `json:"billNo"`
	Random              string `json:"random"`
	TotalAmt            string `json:"totalAmt"`
	IvcDateTime         string `json:"ivcDateTime"`
	DataType            string `json:"dataType"` // 1 正常电子, 2 电子红票
	State               string `json:"state"`    // 1 正常, 2 作废, 3 冲红
	RelateBillBatchCode string `json:"relateBillBatchCode"`
	RelateBillNo        string `json:"relateBillNo"`
	Payer               string `json:"payer"`
	Sex                 string `json:"sex"`
	IDCardNo            string `json:"idCardNo"` // masked
	Remark              string `json:"remark"`
	CreateTime          string `json:"createTime"`
	IsScarlet           string `json:"isScarlet"`
}

// listItem describes b (its signed content loaded); related is the bill it
// is linked to — a red bill's original, or the red bill that reversed b —
// as "code number", or "".
func listItem(b *server.LedgerBill, related string) billListItem {
	it := billListItem{BusNo: b.BusNo, PlaceCode: b.Point, BillName: billName(b.Kind), BillBatchCode: b.BillCode, BillNo: b.BillNo,
		Random: b.CheckCode, TotalAmt: b.Total.String(), IvcDateTime: MedicalTime(b.IssuedAt), DataType: "1", State: "1",
		Payer: b.Payer, CreateTime: MedicalTime(b.IssuedAt), IsScarlet: "0", BusDate: MedicalTime(b.IssuedAt)}
	if b.Bill != nil {
		st := &b.Bill.Settlement
		it.BusDate, it.BusType = MedicalTime(server.BusinessTime(b.Bill)), string(st.BusType)
		it.Sex, it.IDCardNo, it.Remark = string(st.Sex), bill.MaskID(string(st.IDCardNo)), string(st.Remark)
	}
	code, no, _ := strings.Cut(related, " ")
	it.RelateBillBatchCode, it.RelateBillNo = code, no
	switch {
	case b.RedOf != "":
		it.DataType, it.IsScarlet = "2", "1"
	case related != "":
		it.State, it.IsScarlet = "3", "1" // reversed by a red bill
	}
	return it
}

// relatedBill is the bill linked to b: its original when b is red, the
// red bill that reversed it otherwise ("" when none).
func (s *Adapter) relatedBill(ctx context.Context, b *server.LedgerBill) (string, error) {
	if b.RedOf != "" {
		return b.RedOfBill, nil
	}
	red, err := s.RedBillOf(ctx, b.ID)
	if ok, err := found(err); !ok {
		return "", err
	}
	return red.BillCode + " " + red.BillNo, nil
}

// medicalBillList is getBillByBusDate (by business time, as HIS counts)
// and getBillByIvcDate (by issue time): dataType 1 normal, 2 red, 3 paper,
// 4 paper red, 5 blank paper (by when the paper was used); pageSize at most
// 200.
func (s *Adapter) medicalBillList(byIvc bool) MedicalService {
	return func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
		var req struct {
			BusBgnDate, BusEndDate, IvcBgnDate, IvcEndDate, PlaceCode, DataType, PageNo, PageSize bill.Text
		}
		if err := decodeBusiness(data, &req); err != nil {
			return nil, err
		}
		if req.BusBgnDate == "" && req.IvcBgnDate != "" {
			req.BusBgnDate, req.BusEndDate = req.IvcBgnDate, req.IvcEndDate
		}
		from, err := parseMedicalDate("busBgnDate", string(req.BusBgnDate))
		if err != nil {
			return nil, err
		}
		to, err := parsePeriodEnd("busEndDate", string(req.BusEndDate))
		if err != nil {
			return nil, err
		}
		if req.PageSize == "" {
			return nil, failMedical(ResultInvalid, "pageSize 应在 1 至 200 之间，收到 %q", req.PageSize)
		}
		page, size, err := paging(req.PageNo, req.PageSize)
		if err != nil {
			return nil, err
		}
		places, err := placesOf(app, req.PlaceCode)
		if err != nil {
			return nil, err
		}
		f := server.LedgerFilter{Points: places, From: from, To: to, ByBusiness: !byIvc, NoVouchers: true, Limit: size, Offset: (page - 1) * size}
		switch req.DataType {
		case "", "1":
			f.Red = "blue"
		case "2":
			f.Red = "red"
		case "3", "4", "5":
			return s.paperList(ctx, places, from, to, string(req.DataType), page, size)
		default:
			return nil, failMedical(ResultInvalid, "dataType 应为 1 至 5，收到 %q", req.DataType)
		}
		total, _, err := s.CountLedger(ctx, f)
		if err != nil {
			return nil, err
		}
		rows, err := s.LedgerPage(ctx, f)
		if err != nil {
			return nil, err
		}
		list := []billListItem{}
		for _, b := range rows {
			rel, err := s.relatedBill(ctx, b)
			if err != nil {
				return nil, err
			}
			list = append(list, listItem(b, rel))
		}
		return map[string]any{"total": total, "pageNo": page, "pageSize": size, "billList": list}, nil
	}
}

// paperList answers getBillByBusDate for paper: 3 paper copies printed
// (live), 4 paper copies voided, 5 blank-voided numbers, by when the paper
// was used.
func (s *Adapter) paperList(ctx context.Context, places []string, from, to time.Time, dataType string, page, size int) (any, error) {
	status := map[string]string{"3": "printed", "4": "voided", "5": "blank_void"}[dataType]
	total, uses, err := s.PaperUses(ctx, places, status, from, to, size, (page-1)*size)
	if err != nil {
		return nil, err
	}
	list := []map[string]string{}
	for _, u := range uses {
		item := map[string]string{"pBillBatchCode": u.Code, "pBillNo": bill.FormatBillNo(u.No), "placeCode": u.Point,
			"createTime": MedicalTime(u.At), "reason": u.Reason}
		if u.BillCode != "" {
			item["billBatchCode"], item["billNo"], item["totalAmt"] = u.BillCode, bill.FormatBillNo(u.BillNo), u.Total.String()
		}
		list = append(list, item)
	}
	return map[string]any{"total": total, "pageNo": page, "pageSize": size, "billList": list}, nil
}

// medicalUnprinted is getEBillUnPrintList: a patient's bills (by card)
// without a paper copy, in a period (default the last 30 days), paged.
func (s *Adapter) medicalUnprinted(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	return s.unprintedList(ctx, app, data, true)
}

// medicalNotPrinted is getNotPrintList: as getEBillUnPrintList, the card
// optional, and each item says whether the bill has a detail list.
func (s *Adapter) medicalNotPrinted(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	return s.unprintedList(ctx, app, data, false)
}

// unprintedList lists a patient's bills (by card, or by ID number or
// patient id) not reversed and not turned to paper, in a period (default
// the last 30 days), paged.
func (s *Adapter) unprintedList(ctx context.Context, app *server.HISApp, data []byte, cardRequired bool) (any, error) {
	var req struct {
		CardType, CardNo, IDCardNo, PatientID, BusType, BusBgnDate, BusEndDate, PageNo, PageSize bill.Text
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	req.PatientID = bill.Text(strings.TrimSpace(string(req.PatientID)))
	if strings.TrimSpace(string(req.CardNo)) == "" && (cardRequired || (req.IDCardNo == "" && req.PatientID == "")) {
		return nil, failMedical(ResultInvalid, "cardNo（卡号）不能为空")
	}
	to := s.Now()
	from := to.AddDate(0, 0, -30)
	var err error
	if req.BusBgnDate != "" {
		if from, err = parseMedicalDate("busBgnDate", string(req.BusBgnDate)); err != nil {
			return nil, err
		}
	}
	if req.BusEndDate != "" {
		if to, err = parsePeriodEnd("busEndDate", string(req.BusEndDate)); err != nil {
			return nil, err
		}
	}
	size, _ := strconv.Atoi(string(req.PageSize))
	page, _ := strconv.Atoi(string(req.PageNo))
	size, page = min(max(size, 1), 200), max(page, 1)
	if req.PageSize == "" {
		size = 20
	}
	open, err := s.OpenBills(ctx, app.Points, from, to, string(req.CardNo))
	if err != nil {
		return nil, err
	}
	matched := []map[string]any{}
	for _, lb := range open {
		st := &lb.Bill.Settlement
		switch {
		case req.CardType != "" && st.CardType != req.CardType,
			req.IDCardNo != "" && !strings.EqualFold(string(st.IDCardNo), strings.TrimSpace(string(req.IDCardNo))),
			req.PatientID != "" && st.PatientID != req.PatientID,
			req.BusType != "" && st.BusType != req.BusType:
			continue
		}
		item := structMap(listItem(lb, ""))
		if !cardRequired {
			item["listFlag"] = "0"
			if len(st.ListDetail) > 0 {
				item["listFlag"] = "1"
			}
		}
		matched = append(matched, item)
	}
	total := len(matched)
	start := min((page-1)*size, total)
	return map[string]any{"total": total, "pageNo": page, "pageSize": size, "billList": matched[start:min(start+size, total)]}, nil
}

// structMap is v's JSON object as a map (to add a field to it).
func structMap(v any) map[string]any {
	raw, _ := json.Marshal(v)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return m
}

func mustBillNo(s string) int64 {
	n, _ := bill.ParseBillNo(s)
	return n
}

// medicalDetail is getBillDetail: one bill in full, laid out as the
// reference lays it out — the header fields and the lists at the top
// level of the answer (a kiosk's form reads payer, totalAmt, chargeDetail…
// there) — with the fields this server answered before (the bill's
// identity and state, and the settlement as issued).
func (s *Adapter) medicalDetail(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	lb, err := s.billWithRandom(ctx, app, data)
	if err != nil {
		return nil, err
	}
	rel, err := s.relatedBill(ctx, lb)
	if err != nil {
		return nil, err
	}
	item := listItem(lb, rel)
	st := &lb.Bill.Settlement
	dash := func(d bill.Text) string {
		if len(d) == 8 {
			return string(d[:4]) + "-" + string(d[4:6]) + "-" + string(d[6:])
		}
		return string(d)
	}
	charges := []map[string]string{}
	for _, c := range st.ChargeDetail {
		charges = append(charges, map[string]string{"chargeCode": string(c.ChargeCode), "chargeName": string(c.ChargeName),
			"unit": string(c.Unit), "std": c.Std.String(), "number": c.Number.String(), "amt": c.Amt.String(),
			"selfAmt": c.SelfAmt.String(), "remark": string(c.Remark)})
	}
	details := []map[string]string{}
	for _, d := range st.ListDetail {
		details = append(details, map[string]string{"chrgtype": string(d.ListTypeName), "code": string(d.Code), "name": string(d.Name),
			"unit": string(d.Unit), "std": d.Std.String(), "number": d.Number.String(), "amt": d.Amt.String(),
			"selfAmt": d.SelfAmt.String(), "remark": string(d.Remark)})
	}
	pays := []map[string]string{}
	for _, p := range st.PayChannelDetail {
		pays = append(pays, map[string]string{"payChannelCode": string(p.Code), "payChannelValue": p.Value.String()})
	}
	category := string(st.Category) // 入院科室 on an inpatient bill
	if category == "" {
		category = string(st.PatientCategory)
	}
	others := []map[string]string{}
	for _, o := range st.OtherInfo {
		others = append(others, map[string]string{"infoName": string(o.InfoName), "infoValue": string(o.InfoValue)})
	}
	return map[string]any{
		// The reference's layout.
		"busNo": string(st.BusNo), "busType": string(st.BusType), "payer": string(st.Payer), "busDateTime": string(st.BusDateTime),
		"placeCode": lb.Point, "payee": string(st.Payee), "author": string(st.Author), "totalAmt": st.TotalAmt.String(),
		"remark": string(st.Remark), "cardType": string(st.CardType), "cardNo": string(st.CardNo), "sex": string(st.Sex),
		"age": string(st.Age), "idCardNo": bill.PayerID(st), "patientNo": string(st.PatientNo),
		"patientId": string(st.PatientID), "caseNumber": string(st.CaseNumber), "hospitalNo": string(st.HospitalNo),
		"category": category, "leaveCategory": string(st.LeaveCategory), "ward": string(st.Ward), "bedNo": string(st.BedNo),
		"inHospitalDate": dash(st.InHospitalDate), "outHospitalDate": dash(st.OutHospitalDate),
		"cashPay": st.CashPay.String(), "cashRecharge": st.CashRecharge.String(), "cashRefund": st.CashRefund.String(),
		"medicalInstitution": string(st.MedicalInstitution), "medicalCareType": string(st.MedicalCareType),
		"medicalInsuranceID": string(st.MedicalInsuranceID), "fundPay": st.FundPay.String(), "otherfundPay": st.OtherFundPay.String(),
		"accountPay": st.AccountPay.String(), "selfConceitedAmt": st.SelfConceitedAmt.String(), "selfCashPay": st.SelfCashPay.String(),
		"ownPay": st.OwnPay.String(), "selfPayAmt": st.SelfPayAmt.String(),
		"otherParameter": others, "otherSpecialParameter": []map[string]string{},
		"chargeDetail": charges, "listDetail": details, "payChannelDetail": pays,
		// What this server answered before.
		"billBatchCode": item.BillBatchCode, "billNo": item.BillNo, "random": item.Random, "createTime": item.CreateTime,
		"state": item.State, "isScarlet": item.IsScarlet, "billName": item.BillName, "unitName": lb.Bill.UnitName,
		"kind": string(lb.Kind), "settlement": lb.Bill.Settlement}, nil
}
