package his

import (
	"context"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// The paper calls of the medical API, for server points.

func (s *Adapter) paperServices(publicURL string) map[string]MedicalService {
	return map[string]MedicalService{
		"getValidBillBatchCode": s.medicalPaperCodes,
		"getPaperBillNo":        s.medicalPaperNo,
		"turnPaper": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalTurnPaper(ctx, app, data, false)
		},
		"reTurnPaper": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalTurnPaper(ctx, app, data, true)
		},
		"invalidPaper": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalInvalidPaper(ctx, app, data, publicURL)
		},
		"invalidBlankBillNo": s.medicalBlankVoid,
	}
}

// placeFor checks the caller may act for a request's placeCode.
func placeFor(app *server.HISApp, place bill.Text) (string, error) {
	if place == "" {
		return "", failMedical(ResultInvalid, "placeCode（开票点编码）不能为空")
	}
	if !app.MayActFor(string(place)) {
		return "", failMedical(ResultNotYourPoint, "应用 %s 无权为开票点 %s 操作", app.AppID, place)
	}
	return string(place), nil
}

func paperNo(field string, v bill.Text) (int64, error) {
	n, err := bill.ParseBillNo(string(v))
	if err != nil {
		return 0, failMedical(ResultInvalid, "%s：%s", field, bill.ErrorMessage(err))
	}
	return n, nil
}

func (s *Adapter) medicalPaperCodes(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	var req struct{ PlaceCode bill.Text }
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	place, err := placeFor(app, req.PlaceCode)
	if err != nil {
		return nil, err
	}
	ranges, err := s.PaperRanges(ctx, place)
	if err != nil {
		return nil, err
	}
	list := []map[string]string{}
	codes := []map[string]string{}
	seen := map[string]bool{}
	for _, r := range ranges {
		if r.Current == 0 {
			continue
		}
		list = append(list, map[string]string{"pBillBatchCode": r.Code, "pBillNoStart": bill.FormatBillNo(r.Start),
			"pBillNoEnd": bill.FormatBillNo(r.End), "pBillNo": bill.FormatBillNo(r.Current)})
		if !seen[r.Code] {
			seen[r.Code] = true
			codes = append(codes, map[string]string{"billBatchCode": r.Code})
		}
	}
	// The reference's layout (billCodeList of bill kinds, each with its
	// codes as objects), and the list with the numbers this server answered
	// before.
	return map[string]any{"billCodeList": []map[string]any{{"billCode": "paper", "billBatchCodeList": codes}}, "list": list}, nil
}

func (s *Adapter) medicalPaperNo(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	var req struct{ PlaceCode, PBillBatchCode bill.Text }
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	place, err := placeFor(app, req.PlaceCode)
	if err != nil {
		return nil, err
	}
	no, err := s.CurrentPaper(ctx, place, string(req.PBillBatchCode))
	if err != nil {
		return nil, err
	}
	return paperFields(string(req.PBillBatchCode), no), nil
}

func (s *Adapter) medicalTurnPaper(ctx context.Context, app *server.HISApp, data []byte, reprint bool) (any, error) {
	var req struct {
		BillBatchCode, BillNo, PBillBatchCode, PBillNo, PlaceCode, Operator bill.Text
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	place, err := placeFor(app, req.PlaceCode)
	if err != nil {
		return nil, err
	}
	billNo, err := paperNo("billNo", req.BillNo)
	if err != nil {
		return nil, err
	}
	pno, err := paperNo("pBillNo", req.PBillNo)
	if err != nil {
		return nil, err
	}
	if err := s.PrintPaper(ctx, place, string(req.BillBatchCode), billNo, string(req.PBillBatchCode), pno, string(req.Operator), reprint); err != nil {
		return nil, err
	}
	out := paperFields(string(req.PBillBatchCode), pno)
	out["billBatchCode"], out["billNo"] = string(req.BillBatchCode), bill.FormatBillNo(billNo)
	return out, nil
}

// paperVoid is a request to void a printed paper bill (invalidPaper,
// invalidPayMentVoucherPaper) and the e-bill it was turned from.
type paperVoid struct {
	place, code, reason, author string
	no                          int64
	bill                        *server.LedgerBill
}

func (s *Adapter) readPaperVoid(ctx context.Context, app *server.HISApp, data []byte) (*paperVoid, error) {
	var req struct {
		PBillBatchCode, PBillNo, PlaceCode, Author, Reason bill.Text
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	place, err := placeFor(app, req.PlaceCode)
	if err != nil {
		return nil, err
	}
	pno, err := paperNo("pBillNo", req.PBillNo)
	if err != nil {
		return nil, err
	}
	code := strings.TrimSpace(string(req.PBillBatchCode))
	lb, err := s.PaperBill(ctx, place, code, pno)
	if err != nil {
		return nil, err
	}
	return &paperVoid{place: place, code: code, no: pno, reason: string(req.Reason), author: string(req.Author), bill: lb}, nil
}

// medicalInvalidPaper voids a printed paper bill and reverses its e-bill in
// one step (the reversal voids the live paper).
func (s *Adapter) medicalInvalidPaper(ctx context.Context, app *server.HISApp, data []byte, publicURL string) (any, error) {
	pv, err := s.readPaperVoid(ctx, app, data)
	if err != nil {
		return nil, err
	}
	red, err := s.ReverseAt(ctx, pv.place, pv.bill.BillCode, mustBillNo(pv.bill.BillNo), pv.reason, pv.author)
	if err != nil {
		return nil, err
	}
	out, err := s.redFields(ctx, red, publicURL)
	if err != nil {
		return nil, err
	}
	out["pBillBatchCode"], out["pBillNo"] = pv.code, bill.FormatBillNo(pv.no)
	return out, nil
}

func (s *Adapter) medicalBlankVoid(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	var req struct {
		PBillBatchCode, PBillNoStart, PBillNoEnd, PlaceCode, Author, Reason bill.Text
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	place, err := placeFor(app, req.PlaceCode)
	if err != nil {
		return nil, err
	}
	from, err := paperNo("pBillNoStart", req.PBillNoStart)
	if err != nil {
		return nil, err
	}
	to, err := paperNo("pBillNoEnd", req.PBillNoEnd)
	if err != nil {
		return nil, err
	}
	n, err := s.BlankVoidPaper(ctx, place, string(req.PBillBatchCode), from, to, string(req.Reason), string(req.Author))
	if err != nil {
		return nil, err
	}
	return map[string]any{"pBillBatchCode": string(req.PBillBatchCode), "count": n}, nil
}

func paperFields(code string, no int64) map[string]string {
	return map[string]string{"pBillBatchCode": code, "pBillNo": bill.FormatBillNo(no)}
}
