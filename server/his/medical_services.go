package his

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/server"
)

// MedicalServices are the service ids of the medical API this server
// answers; publicURL is the address patients' phones reach the
// verification page at (the QR code's target).
func (s *Adapter) MedicalServices(publicURL string) map[string]MedicalService {
	issue := func(k bill.Kind) MedicalService {
		return func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalIssue(ctx, app, k, data, publicURL)
		}
	}
	services := map[string]MedicalService{
		"invoiceEBillOutpatient": issue(bill.Outpatient),
		"invEBillHospitalized":   issue(bill.Inpatient),
		"invEBillRegistration":   issue(bill.Registration),
		"invEBillCheckUp":        issue(bill.Exam),
		// 往来, 捐赠 and 非税通用 bills, each kind told by its busType.
		"invoiceEBillCommon": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			var req struct{ BusType bill.Text }
			if err := decodeBusiness(data, &req); err != nil {
				return nil, err
			}
			k, err := bill.CommonKind(bill.Text(strings.TrimSpace(string(req.BusType))))
			if err != nil {
				return nil, failMedical(ResultInvalid, "%s", bill.ErrorMessage(err))
			}
			return s.medicalIssue(ctx, app, k, data, publicURL)
		},
		"getEBillByBusNo": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalByBusNo(ctx, app, data, publicURL)
		},
		"writeOffEBill": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalWriteOff(ctx, app, data, publicURL)
		},
		"getEBillStatesByBillInfo":   s.medicalState,
		"getBillByBusDate":           s.medicalBillList(false),
		"getBillByIvcDate":           s.medicalBillList(true),
		"checkTotalData":             s.medicalCheck(checkKind{}),
		"checkDataByPlace":           s.medicalCheck(checkKind{placeRequired: true}),
		"checkWriteOffData":          s.medicalCheck(checkKind{red: "red"}),
		"checkTotalDataByIvcDate":    s.medicalCheck(checkKind{byIvc: true}),
		"checkDataPlaceByIvcDate":    s.medicalCheck(checkKind{byIvc: true, placeRequired: true}),
		"checkWriteOffDataByIvcDate": s.medicalCheck(checkKind{byIvc: true, red: "red"}),
		"getEBillUnPrintList":        s.medicalUnprinted,
		"getNotPrintList":            s.medicalNotPrinted,
		"getBillDetail":              s.medicalDetail,
		"invEBillCheckUpBatch":       s.medicalExamBatch,
	}
	for id, svc := range s.paperServices(publicURL) {
		services[id] = svc
	}
	for id, svc := range s.moreServices(publicURL) {
		services[id] = svc
	}
	for id, svc := range s.batchServices(publicURL) {
		services[id] = svc
	}
	for id, svc := range s.voucherServices(publicURL) {
		services[id] = svc
	}
	return services
}

// MedicalTime writes a time as the protocol does: yyyyMMddHHmmssSSS, Beijing.
func MedicalTime(t time.Time) string { return bill.FormatBusDateTime(t) }

// decodeBusiness reads a request's business JSON into v, leniently (as
// HIS clients send it); a malformed document is ResultBadData.
func decodeBusiness(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return failMedical(ResultBadData, "业务数据不是合法的 JSON：%v", err)
	}
	return nil
}

// issuedFields are the response fields of an issued bill.
type issuedFields struct {
	BillBatchCode string `json:"billBatchCode"`
	BillNo        string `json:"billNo"`
	Random        string `json:"random"`
	CreateTime    string `json:"createTime"`
	BillBusDate   string `json:"billBusDate"`
	BillQRCode    string `json:"billQRCode"`
	PictureURL    string `json:"pictureUrl"`
	PictureNetURL string `json:"pictureNetUrl"`
}

func (s *Adapter) issuedFields(ctx context.Context, lb *server.LedgerBill, publicURL string, signature ...[]byte) (issuedFields, error) {
	// billBusDate is a timestamp like every other (yyyyMMddHHmmssSSS):
	// HIS clients parse it with that layout, and a shorter value throws
	// after the bill exists (domain.md §5).
	f := issuedFields{BillBatchCode: lb.BillCode, BillNo: lb.BillNo, Random: lb.CheckCode, CreateTime: MedicalTime(lb.IssuedAt),
		BillBusDate: MedicalTime(lb.IssuedAt)}
	if lb.Bill != nil {
		f.BillBusDate = MedicalTime(server.BusinessTime(lb.Bill))
	}
	if publicURL != "" && lb.Bill != nil {
		var sig []byte
		var err error
		if len(signature) > 0 && signature[0] != nil {
			sig = signature[0]
		} else if sig, err = s.BillSignature(ctx, lb.ID); err != nil {
			return f, err
		}
		url := bill.NewVerifyRef(lb.Bill, lb.CheckCode, sig).URL(publicURL)
		png, err := printing.QRPNG(url, 240)
		if err != nil {
			return f, err
		}
		f.BillQRCode = base64.StdEncoding.EncodeToString(png)
		f.PictureURL, f.PictureNetURL = url, url
	}
	return f, nil
}

func (s *Adapter) medicalIssue(ctx context.Context, app *server.HISApp, k bill.Kind, data []byte, publicURL string) (any, error) {
	st, err := bill.ParseSettlement(data)
	if err != nil {
		return nil, failMedical(ResultBadData, "%s", bill.ErrorMessage(err))
	}
	warn(ctx, st.Warnings()...) // stored as sent: the bill does not wait on a registration typo
	place := strings.TrimSpace(string(st.PlaceCode))
	if place == "" {
		return nil, failMedical(ResultInvalid, "placeCode（开票点编码）不能为空")
	}
	if !app.MayActFor(place) {
		return nil, failMedical(ResultNotYourPoint, "应用 %s 无权为开票点 %s 开票", app.AppID, place)
	}
	iss, err := s.IssueAt(ctx, place, k, st)
	if err != nil {
		return nil, err
	}
	return s.issuedFields(ctx, iss.LedgerBill, publicURL, iss.Signature)
}

// medicalByBusNo answers "what became of this busNo" (a lost response).
func (s *Adapter) medicalByBusNo(ctx context.Context, app *server.HISApp, data []byte, publicURL string) (any, error) {
	var req struct {
		BusNo     bill.Text `json:"busNo"`
		PlaceCode bill.Text `json:"placeCode"`
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	points := app.Points
	if req.PlaceCode != "" {
		if !app.MayActFor(string(req.PlaceCode)) {
			return nil, failMedical(ResultNotYourPoint, "应用 %s 无权查询开票点 %s", app.AppID, req.PlaceCode)
		}
		points = []string{string(req.PlaceCode)}
	}
	for _, p := range points {
		lb, err := s.BillByBusNo(ctx, p, string(req.BusNo))
		if ok, err := found(err); err != nil {
			return nil, err
		} else if ok {
			return s.byBusNoFields(ctx, lb, publicURL)
		}
	}
	return nil, failMedical(ResultNotFound, "业务流水号 %s 没有开具过票据", req.BusNo)
}

// byBusNoFields answer getEBillByBusNo: the issued bill's fields, whether
// it was reversed (isScarlet) and, when it was, the red bill's fields under
// the reference's scarlet… names.
func (s *Adapter) byBusNoFields(ctx context.Context, lb *server.LedgerBill, publicURL string) (any, error) {
	f, err := s.issuedFields(ctx, lb, publicURL)
	if err != nil {
		return nil, err
	}
	out := structMap(f)
	out["isScarlet"] = "0"
	red, err := s.RedBillOf(ctx, lb.ID)
	if ok, err := found(err); !ok {
		return out, err
	}
	rf, err := s.issuedFields(ctx, red, publicURL)
	if err != nil {
		return nil, err
	}
	out["isScarlet"] = "1"
	for k, v := range map[string]string{"scarletBillBatchCode": rf.BillBatchCode, "scarletBillNo": rf.BillNo, "scarletRandom": rf.Random,
		"scarletBillQRCode": rf.BillQRCode, "scarletCreateTime": rf.CreateTime, "scarletBillBusDate": rf.BillBusDate,
		"scarletPictureUrl": rf.PictureURL, "scarletPictureNetUrl": rf.PictureNetURL} {
		out[k] = v
	}
	return out, nil
}

// billFor loads a bill the app may see (one of its points).
func (s *Adapter) billFor(ctx context.Context, app *server.HISApp, code string, no bill.Text) (*server.LedgerBill, error) {
	n, err := bill.ParseBillNo(string(no))
	if err != nil {
		return nil, failMedical(ResultInvalid, "%s", bill.ErrorMessage(err))
	}
	lb, err := s.LedgerBill(ctx, code, n)
	if err != nil {
		return nil, err
	}
	if !app.MayActFor(lb.Point) {
		return nil, failMedical(ResultNotFound, "未找到票据 %s %s", code, lb.BillNo)
	}
	return lb, nil
}

func (s *Adapter) medicalWriteOff(ctx context.Context, app *server.HISApp, data []byte, publicURL string) (any, error) {
	var req struct {
		BillBatchCode bill.Text `json:"billBatchCode"`
		BillNo        bill.Text `json:"billNo"`
		Reason        bill.Text `json:"reason"`
		Operator      bill.Text `json:"operator"`
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	lb, err := s.billFor(ctx, app, string(req.BillBatchCode), req.BillNo)
	if err != nil {
		return nil, err
	}
	n, _ := bill.ParseBillNo(string(req.BillNo))
	red, err := s.ReverseAt(ctx, lb.Point, lb.BillCode, n, string(req.Reason), string(req.Operator))
	if err != nil {
		return nil, err
	}
	return s.redFields(ctx, red, publicURL)
}

// redFields are the response fields of a red bill (writeOffEBill, invalidPaper).
func (s *Adapter) redFields(ctx context.Context, red *server.Issued, publicURL string) (map[string]string, error) {
	f, err := s.issuedFields(ctx, red.LedgerBill, publicURL, red.Signature)
	if err != nil {
		return nil, err
	}
	return map[string]string{"eScarletBillBatchCode": f.BillBatchCode, "eScarletBillNo": f.BillNo, "eScarletRandom": f.Random,
		"createTime": f.CreateTime, "billBusDate": f.BillBusDate, "billQRCode": f.BillQRCode, "pictureUrl": f.PictureURL,
		"pictureNetUrl": f.PictureNetURL}, nil
}

func (s *Adapter) medicalState(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	var req struct {
		BillBatchCode bill.Text `json:"billBatchCode"`
		BillNo        bill.Text `json:"billNo"`
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	lb, err := s.billFor(ctx, app, string(req.BillBatchCode), req.BillNo)
	if err != nil {
		return nil, err
	}
	out := map[string]string{"billName": billName(lb.Kind), "billBatchCode": lb.BillCode, "billNo": lb.BillNo, "random": lb.CheckCode,
		"ivcDateTime": MedicalTime(lb.IssuedAt), "state": "1", "isScarlet": "0", "isPrtPaper": "0"}
	if lb.RedOf != "" {
		out["isScarlet"] = "1"
	}
	// The red bill that reversed it, named as writeOffEBill names it (a
	// deposit voucher's latest refund; the voucher stays valid until
	// nothing is left of it).
	red, err := s.RedBillOf(ctx, lb.ID)
	if ok, err := found(err); err != nil {
		return nil, err
	} else if ok {
		out["state"], out["isScarlet"] = "2", "1"
		if rev, err := s.IsReversed(ctx, lb.ID); err != nil {
			return nil, err
		} else if !rev {
			out["state"] = "1"
		}
		// Named as writeOffEBill names it (what clients written against
		// this server read) and as the reference names it here.
		out["eScarletBillBatchCode"], out["eScarletBillNo"], out["eScarletRandom"] = red.BillCode, red.BillNo, red.CheckCode
		out["scarletBillBatchCode"], out["scarletBillNo"], out["scarletRandom"] = red.BillCode, red.BillNo, red.CheckCode
		out["scarletCreateTime"], out["scarletBillBusDate"] = MedicalTime(red.IssuedAt), MedicalTime(red.IssuedAt)
	}
	// Its live paper copy, if it was converted.
	paper, err := s.LivePaper(ctx, lb.ID)
	if ok, err := found(err); err != nil {
		return nil, err
	} else if ok {
		out["isPrtPaper"], out["pBillBatchCode"], out["pBillNo"] = "1", paper.Code, bill.FormatBillNo(paper.No)
		out["pCreateTime"], out["pBillBusDate"] = MedicalTime(paper.At), MedicalTime(paper.At)
	}
	return out, nil
}
