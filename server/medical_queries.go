package server

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
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
func placesOf(app *HISApp, place bill.Text) ([]string, error) {
	if place == "" {
		return app.Points, nil
	}
	if !app.MayActFor(string(place)) {
		return nil, failMedical(ResultNotYourPoint, "应用 %s 无权查询开票点 %s", app.AppID, place)
	}
	return []string{string(place)}, nil
}

// billListItem is one bill of a list answer.
type billListItem struct {
	BillBatchCode string `json:"billBatchCode"`
	BillNo        string `json:"billNo"`
	Random        string `json:"random"`
	CreateTime    string `json:"createTime"`
	BusNo         string `json:"busNo"`
	Payer         string `json:"payer"`
	TotalAmt      string `json:"totalAmt"`
	PlaceCode     string `json:"placeCode"`
	IsScarlet     string `json:"isScarlet"`
	State         string `json:"state"`
}

func listItem(b *LedgerBill, reversed bool) billListItem {
	it := billListItem{BillBatchCode: b.BillCode, BillNo: b.BillNo, Random: b.CheckCode, CreateTime: MedicalTime(b.IssuedAt),
		BusNo: b.BusNo, Payer: b.Payer, TotalAmt: b.Total.String(), PlaceCode: b.Point, IsScarlet: "0", State: "1"}
	if b.RedOf != "" {
		it.IsScarlet = "1"
	}
	if reversed {
		it.State = "2"
	}
	return it
}

func (s *Store) isReversed(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.queryRow(ctx, "SELECT COUNT(*) FROM bills WHERE red_of = ?", id).Scan(&n)
	return n > 0, err
}

// medicalByBusDate is getBillByBusDate: dataType 1 normal, 2 red (by
// business time, as HIS counts), 3 paper, 4 paper red, 5 blank paper (by
// when the paper was used); pageSize at most 200.
func (s *Store) medicalByBusDate(ctx context.Context, app *HISApp, data []byte) (any, error) {
	var req struct {
		BusBgnDate, BusEndDate, PlaceCode, DataType, PageNo, PageSize bill.Text
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	from, err := parseMedicalDate("busBgnDate", string(req.BusBgnDate))
	if err != nil {
		return nil, err
	}
	to, err := parseMedicalDate("busEndDate", string(req.BusEndDate))
	if err != nil {
		return nil, err
	}
	if len(req.BusEndDate) <= 10 { // a date: the whole day
		to = to.AddDate(0, 0, 1)
	}
	page, _ := strconv.Atoi(string(req.PageNo))
	size, _ := strconv.Atoi(string(req.PageSize))
	if page < 1 {
		page = 1
	}
	if size < 1 || size > 200 {
		return nil, failMedical(ResultInvalid, "pageSize 应在 1 至 200 之间，收到 %q", req.PageSize)
	}
	places, err := placesOf(app, req.PlaceCode)
	if err != nil {
		return nil, err
	}
	f := LedgerFilter{Points: places, From: from, To: to, ByBusiness: true, Limit: size, Offset: (page - 1) * size}
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
	rows, err := s.LedgerBills(ctx, f)
	if err != nil {
		return nil, err
	}
	list := []billListItem{}
	for _, b := range rows {
		rev, err := s.isReversed(ctx, b.ID)
		if err != nil {
			return nil, err
		}
		list = append(list, listItem(b, rev))
	}
	return map[string]any{"total": total, "pageNo": page, "pageSize": size, "billList": list}, nil
}

// paperList answers getBillByBusDate for paper: 3 paper copies printed
// (live), 4 paper copies voided, 5 blank-voided numbers, by when the paper
// was used.
func (s *Store) paperList(ctx context.Context, places []string, from, to time.Time, dataType string, page, size int) (any, error) {
	status := map[string]string{"3": "printed", "4": "voided", "5": "blank_void"}[dataType]
	where := " WHERE u.status = ? AND u.used_at >= ? AND u.used_at < ? AND u.point_code IN (" + placeholders(len(places)) + ")"
	args := []any{status, from.UnixMilli(), to.UnixMilli()}
	for _, p := range places {
		args = append(args, p)
	}
	var total int
	if err := s.queryRow(ctx, "SELECT COUNT(*) FROM paper_usage u"+where, args...).Scan(&total); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT u.paper_code, u.paper_no, u.point_code, u.used_at, u.reason, COALESCE(b.bill_code, ''), COALESCE(b.bill_no, 0),
		COALESCE(b.total, 0) FROM paper_usage u LEFT JOIN bills b ON b.id = u.bill_id`+where+
		" ORDER BY u.paper_code, u.paper_no LIMIT ? OFFSET ?", append(args, size, (page-1)*size)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []map[string]string{}
	for rows.Next() {
		var code, point, reason, billCode string
		var no, used, billNo, total int64
		if err := rows.Scan(&code, &no, &point, &used, &reason, &billCode, &billNo, &total); err != nil {
			return nil, err
		}
		item := map[string]string{"pBillBatchCode": code, "pBillNo": bill.FormatBillNo(no), "placeCode": point,
			"createTime": MedicalTime(time.UnixMilli(used)), "reason": reason}
		if billCode != "" {
			item["billBatchCode"], item["billNo"], item["totalAmt"] = billCode, bill.FormatBillNo(billNo), bill.Money(total).String()
		}
		list = append(list, item)
	}
	return map[string]any{"total": total, "pageNo": page, "pageSize": size, "billList": list}, rows.Err()
}

// medicalTotals is checkTotalData (every bill, blue and red) and
// checkWriteOffData (red bills): the count and amount of a business day
// (and business type, when busType is given) for reconciliation. Red
// amounts are negative in both, so checkTotalData is the day's net and
// checkTotalData − checkWriteOffData is the day's charges (blue bills),
// counts and amounts, as iih computes it (docs/his-integration.md).
func (s *Store) medicalTotals(red string) MedicalService {
	return func(ctx context.Context, app *HISApp, data []byte) (any, error) {
		var req struct{ PlaceCode, BusDate, BusType bill.Text }
		if err := decodeBusiness(data, &req); err != nil {
			return nil, err
		}
		from, to, err := dayRange("busDate", string(req.BusDate))
		if err != nil {
			return nil, err
		}
		places, err := placesOf(app, req.PlaceCode)
		if err != nil {
			return nil, err
		}
		n, sum, err := s.CountLedger(ctx, LedgerFilter{Points: places, From: from, To: to, ByBusiness: true,
			BusType: strings.TrimSpace(string(req.BusType)), Red: red})
		if err != nil {
			return nil, err
		}
		return map[string]string{"allTotalNum": strconv.Itoa(n), "allTotalAmt": sum.String()}, nil
	}
}

// medicalUnprinted is getEBillUnPrintList: a patient's bills (by card)
// without a paper copy, in a period (default the last 30 days), paged.
func (s *Store) medicalUnprinted(ctx context.Context, app *HISApp, data []byte) (any, error) {
	var req struct {
		CardType, CardNo, BusBgnDate, BusEndDate, PageNo, PageSize bill.Text
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	if strings.TrimSpace(string(req.CardNo)) == "" {
		return nil, failMedical(ResultInvalid, "cardNo（卡号）不能为空")
	}
	to := s.now()
	from := to.AddDate(0, 0, -30)
	var err error
	if req.BusBgnDate != "" {
		if from, err = parseMedicalDate("busBgnDate", string(req.BusBgnDate)); err != nil {
			return nil, err
		}
	}
	if req.BusEndDate != "" {
		if to, err = parseMedicalDate("busEndDate", string(req.BusEndDate)); err != nil {
			return nil, err
		}
		if len(req.BusEndDate) <= 10 {
			to = to.AddDate(0, 0, 1)
		}
	}
	size, _ := strconv.Atoi(string(req.PageSize))
	page, _ := strconv.Atoi(string(req.PageNo))
	size, page = min(max(size, 1), 200), max(page, 1)
	if req.PageSize == "" {
		size = 20
	}
	var matched []billListItem
	args := []any{string(req.CardNo), from.UnixMilli(), to.UnixMilli()}
	for _, p := range app.Points {
		args = append(args, p)
	}
	found, err := s.billsWithContent(ctx, "WHERE card_no = ? AND issued_at >= ? AND issued_at < ? AND red_of IS NULL"+
		" AND point_code IN ("+placeholders(len(app.Points))+") ORDER BY issued_at DESC LIMIT 1000", args...)
	if err != nil {
		return nil, err
	}
	for _, lb := range found {
		if req.CardType != "" && lb.Bill.Settlement.CardType != req.CardType {
			continue
		}
		rev, err := s.isReversed(ctx, lb.ID)
		if err != nil {
			return nil, err
		}
		if !rev {
			matched = append(matched, listItem(lb, false))
		}
	}
	total := len(matched)
	start := min((page-1)*size, total)
	return map[string]any{"total": total, "pageNo": page, "pageSize": size, "billList": matched[start:min(start+size, total)]}, nil
}

func mustBillNo(s string) int64 {
	n, _ := bill.ParseBillNo(s)
	return n
}

// medicalDetail is getBillDetail: one bill in full (its settlement as
// issued, with the header fields).
func (s *Store) medicalDetail(ctx context.Context, app *HISApp, data []byte) (any, error) {
	var req struct{ BillBatchCode, BillNo bill.Text }
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	lb, err := s.billFor(ctx, app, string(req.BillBatchCode), req.BillNo)
	if err != nil {
		return nil, err
	}
	rev, err := s.isReversed(ctx, lb.ID)
	if err != nil {
		return nil, err
	}
	item := listItem(lb, rev)
	return map[string]any{"billBatchCode": item.BillBatchCode, "billNo": item.BillNo, "random": item.Random,
		"createTime": item.CreateTime, "state": item.State, "isScarlet": item.IsScarlet, "placeCode": lb.Point,
		"unitName": lb.Bill.UnitName, "kind": string(lb.Kind), "settlement": lb.Bill.Settlement}, nil
}
