package his

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// The reconciliation services of the reference (bosssoft-v3.md §10): day
// totals by business day (checkTotalData, checkDataByPlace,
// checkWriteOffData) and by issue day (the …ByIvcDate three), each
// answered as the reference lays it out — the day, the totals of all pages
// and of this page, and the number ranges (票号段) they cover — and the bill
// lists by business time and by issue time.

// checkKind says what a reconciliation service counts.
type checkKind struct {
	byIvc         bool   // by issue day (ivcDate) rather than business day (busDate)
	red           string // "" every bill; "red" refunds only
	placeRequired bool
}

// billName is the name of a bill kind as the platform names its bill
// kinds (billName in answers).
func billName(k bill.Kind) string {
	switch k {
	case bill.Deposit:
		return "预交金电子凭证"
	case bill.Transfer, bill.Donation, bill.NonTax:
		return k.Name() + "票据（电子）"
	}
	return "医疗" + k.Name() + "收费票据（电子）"
}

// numberRange is one 票号段 row of a check answer: the bills of one point,
// business type and bill code.
type numberRange struct {
	BusType       string `json:"busType"`
	PlaceCode     string `json:"placeCode"`
	BillName      string `json:"billName"`
	BillBatchCode string `json:"billBatchCode"`
	BgnNo         string `json:"bgnNo"`
	EndNo         string `json:"endNo"`
	CopyNum       int    `json:"copyNum"`
	TotalAmt      string `json:"totalAmt"`
	amount        bill.Money
}

// paging reads pageNo and pageSize leniently: absent means the first page
// of 200 (clients written for the older services send neither).
func paging(pageNo, pageSize bill.Text) (page, size int, err error) {
	page, size = 1, 200
	if p := strings.TrimSpace(string(pageNo)); p != "" {
		if page, err = strconv.Atoi(p); err != nil || page < 1 {
			return 0, 0, failMedical(ResultInvalid, "pageNo 应为从 1 开始的整数，收到 %q", pageNo)
		}
	}
	if s := strings.TrimSpace(string(pageSize)); s != "" {
		if size, err = strconv.Atoi(s); err != nil || size < 1 || size > 200 {
			return 0, 0, failMedical(ResultInvalid, "pageSize 应在 1 至 200 之间，收到 %q", pageSize)
		}
	}
	return page, size, nil
}

func (s *Adapter) medicalCheck(k checkKind) MedicalService {
	return func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
		var req struct {
			BusDate, IvcDate, BusType, PlaceCode, IsReturnList, PageNo, PageSize bill.Text
		}
		if err := decodeBusiness(data, &req); err != nil {
			return nil, err
		}
		field, day := "busDate", req.BusDate
		if k.byIvc {
			field, day = "ivcDate", req.IvcDate
			if day == "" {
				day = req.BusDate // the reference's examples carry both
			}
		}
		from, to, err := dayRange(field, string(day))
		if err != nil {
			return nil, err
		}
		if k.placeRequired && strings.TrimSpace(string(req.PlaceCode)) == "" {
			return nil, failMedical(ResultInvalid, "placeCode（开票点编码）不能为空")
		}
		places, err := placesOf(app, req.PlaceCode)
		if err != nil {
			return nil, err
		}
		page, size, err := paging(req.PageNo, req.PageSize)
		if err != nil {
			return nil, err
		}
		f := server.LedgerFilter{Points: places, From: from, To: to, ByBusiness: !k.byIvc,
			BusType: strings.TrimSpace(string(req.BusType)), Red: k.red, NoVouchers: true}
		n, sum, err := s.CountLedger(ctx, f)
		if err != nil {
			return nil, err
		}
		ranges, err := s.numberRanges(ctx, f)
		if err != nil {
			return nil, err
		}
		start := min((page-1)*size, len(ranges))
		pageRows := ranges[start:min(start+size, len(ranges))]
		var pageNum int
		var pageSum bill.Money
		for _, r := range pageRows {
			pageNum, pageSum = pageNum+r.CopyNum, pageSum+r.amount
		}
		if req.IsReturnList == "0" {
			pageRows = []numberRange{}
		}
		return map[string]any{field: dateText(from), "copyNum": len(ranges), "totalNum": pageNum,
			"totalAmt": pageSum.String(), "allTotalNum": strconv.Itoa(n), "allTotalAmt": sum.String(),
			"pageNo": page, "billNoList": pageRows}, nil
	}
}

// numberRanges are the 票号段 rows of the bills f selects.
func (s *Adapter) numberRanges(ctx context.Context, f server.LedgerFilter) ([]numberRange, error) {
	runs, err := s.NumberRanges(ctx, f)
	if err != nil {
		return nil, err
	}
	out := []numberRange{}
	for _, r := range runs {
		out = append(out, numberRange{BusType: r.BusType, PlaceCode: r.Point, BillName: billName(r.Kind), BillBatchCode: r.BillCode,
			BgnNo: bill.FormatBillNo(r.From), EndNo: bill.FormatBillNo(r.To), CopyNum: r.Count, TotalAmt: r.Total.String(), amount: r.Total})
	}
	return out, nil
}

// dateText is a time as yyyy-MM-dd in Beijing (the check answers' dates).
func dateText(t time.Time) string { return t.In(bill.Beijing).Format("2006-01-02") }
