package his

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// Batch issue (bosssoft-v3.md §3, "Batch issue"): a HIS sends up to 200
// settlements under one batchNo; each is issued as if sent on its own (the
// same checks, busNo idempotency, numbering), and getBatchInvoiceEBill
// answers what became of each. The batch is issued before the answer, so
// no item is ever left 0 (未生成); a batchNo sent again answers at once and
// issues nothing twice.

// MaxHISBatch is the most settlements one batch may carry.
const MaxHISBatch = 200

func (s *Adapter) batchServices(publicURL string) map[string]MedicalService {
	batch := func(k bill.Kind) MedicalService {
		return func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalBatchIssue(ctx, app, k, data, publicURL)
		}
	}
	return map[string]MedicalService{
		"batchInvoiceEBillOutpatient":   batch(bill.Outpatient),
		"batchInvoiceEBillHospitalized": batch(bill.Inpatient),
		"batchInvoiceEBillRegistration": batch(bill.Registration),
		"batchInvoiceEBillCheckUp":      batch(bill.Exam),
		"getBatchInvoiceEBill": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalBatchResult(ctx, app, data, publicURL)
		},
	}
}

func (s *Adapter) medicalBatchIssue(ctx context.Context, app *server.HISApp, k bill.Kind, data []byte, publicURL string) (any, error) {
	var req struct {
		BatchNo   bill.Text         `json:"batchNo"`
		EBillList []json.RawMessage `json:"eBillList"`
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	batchNo := strings.TrimSpace(string(req.BatchNo))
	if batchNo == "" || len([]rune(batchNo)) > 60 {
		return nil, failMedical(ResultInvalid, "batchNo（批次号）不能为空，且不超过 60 个字符")
	}
	if len(req.EBillList) == 0 || len(req.EBillList) > MaxHISBatch {
		return nil, failMedical(ResultInvalid, "eBillList 每批 1 至 %d 张，收到 %d 张", MaxHISBatch, len(req.EBillList))
	}
	if seen, err := s.BatchSeen(ctx, app.AppID, batchNo); err != nil {
		return nil, err
	} else if seen {
		return SuccessText("成功"), nil // sent again: already issued
	}
	type outcome struct {
		busNo, errMsg string
		f             issuedFields
		ok            bool
	}
	results := make([]outcome, len(req.EBillList))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32) // the point's group commit takes them together
	for i, raw := range req.EBillList {
		var id struct{ BusNo bill.Text }
		json.Unmarshal(raw, &id)
		results[i].busNo = string(id.BusNo)
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, raw []byte) {
			defer wg.Done()
			defer func() { <-sem }()
			f, err := s.medicalIssue(ctx, app, k, raw, "")
			if err != nil {
				var code string
				code, results[i].errMsg = resultOf(err)
				if code == ResultInternal { // our fault: the detail goes to the log, as for a single call
					s.log.Error("batch issue item failed", "appid", app.AppID, "batchNo", batchNo, "item", i+1, "err", err)
				}
				return
			}
			results[i].f, results[i].ok = f.(issuedFields), true
		}(i, raw)
	}
	wg.Wait()
	items := make([]server.BatchItem, len(results))
	for i, r := range results {
		items[i] = server.BatchItem{BusNo: r.busNo, Status: 2, ErrMsg: r.errMsg}
		if r.ok {
			items[i].Status, items[i].BillCode = 1, r.f.BillBatchCode
			items[i].BillNo, _ = bill.ParseBillNo(r.f.BillNo)
		}
	}
	if err := s.SaveBatch(ctx, app.AppID, batchNo, items); err != nil {
		return nil, err
	}
	return SuccessText("成功"), nil
}

func (s *Adapter) medicalBatchResult(ctx context.Context, app *server.HISApp, data []byte, publicURL string) (any, error) {
	var req struct{ BatchNo bill.Text }
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	items, err := s.BatchItems(ctx, app.AppID, strings.TrimSpace(string(req.BatchNo)))
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, failMedical(ResultNotFound, "没有批次号为 %s 的批量开票", truncate(string(req.BatchNo), 60))
	}
	list := []map[string]any{}
	for _, it := range items {
		out := map[string]any{"busNo": it.BusNo, "status": it.Status, "errMsg": it.ErrMsg, "billBatchCode": "", "billNo": "",
			"random": "", "createTime": "", "billQRCode": "", "pictureUrl": "", "pictureNetUrl": ""}
		if it.Status == 1 {
			lb, err := s.LedgerBill(ctx, it.BillCode, it.BillNo)
			if err != nil {
				return nil, err
			}
			f, err := s.issuedFields(ctx, lb, publicURL)
			if err != nil {
				return nil, err
			}
			for k, v := range structMap(f) {
				out[k] = v
			}
		}
		list = append(list, out)
	}
	return map[string]any{"count": len(list), "eBillList": list}, nil
}
