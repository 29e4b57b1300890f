package his

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/sync/wire"
)

// invEBillCheckUpBatch: a company pays for many employees' exams. Every
// person's settlement is checked first; if any is refused nothing is
// issued and the report names each problem. Then the bills (one per
// person, or one to the unit) are issued in one batch — one Upload, one
// transaction: all or nothing.

type examBatchRequest struct {
	PlaceCode bill.Text         `json:"placeCode"`
	BatchNo   bill.Text         `json:"batchNo"`
	Mode      bill.Text         `json:"mode"` // person (default) or unit
	Unit      examUnit          `json:"unit"`
	Items     []json.RawMessage `json:"items"`
}

type examUnit struct {
	Payer    bill.Text `json:"payer"`
	IDCardNo bill.Text `json:"idCardNo"` // the unit's unified social credit code
	Tel      bill.Text `json:"tel"`
}

type examBatchBill struct {
	BusNo         string `json:"busNo"`
	Payer         string `json:"payer"`
	BillBatchCode string `json:"billBatchCode"`
	BillNo        string `json:"billNo"`
	Random        string `json:"random"`
	TotalAmt      string `json:"totalAmt"`
}

func (s *Adapter) medicalExamBatch(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	var req examBatchRequest
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	place, err := placeFor(app, req.PlaceCode)
	if err != nil {
		return nil, err
	}
	if req.BatchNo == "" {
		return nil, failMedical(ResultInvalid, "batchNo（批次号）不能为空")
	}
	if len(req.Items) == 0 || len(req.Items) > wire.MaxBatch {
		return nil, failMedical(ResultInvalid, "每批 1 至 %d 人，收到 %d 人", wire.MaxBatch, len(req.Items))
	}
	var problems []string
	var people []*bill.Settlement
	seen := map[bill.Text]bool{}
	for i, raw := range req.Items {
		st, err := bill.ParseSettlement(raw)
		if err == nil {
			st.Normalize()
			if st.CheckUpNo == "" {
				st.CheckUpNo = req.BatchNo
			}
			err = st.Validate(bill.Exam)
		}
		who := fmt.Sprintf("第 %d 人", i+1)
		if st != nil && st.Payer != "" {
			who += "（" + string(st.Payer) + "）"
		}
		switch {
		case err != nil:
			problems = append(problems, who+"："+bill.ErrorMessage(err))
		case seen[st.BusNo]:
			problems = append(problems, who+"：业务流水号 "+string(st.BusNo)+" 在本批中重复")
		default:
			seen[st.BusNo] = true
			prior, err := s.BillByBusNo(ctx, place, string(st.BusNo))
			if ok, err := found(err); err != nil {
				return nil, err
			} else if ok {
				problems = append(problems, who+"：业务流水号 "+string(st.BusNo)+" 已开具过票据 "+prior.BillCode+" "+prior.BillNo)
			}
		}
		people = append(people, st)
	}
	if len(problems) > 0 {
		return nil, failMedical(ResultInvalid, "本批未开票，请修改后整批重新提交：%s", strings.Join(problems, "；"))
	}
	toIssue := people
	if strings.TrimSpace(string(req.Mode)) == "unit" {
		unitBill, err := mergeForUnit(req, people)
		if err != nil {
			return nil, err
		}
		prior, err := s.BillByBusNo(ctx, place, string(unitBill.BusNo))
		if ok, err := found(err); err != nil {
			return nil, err
		} else if ok {
			return nil, failMedical(ResultConflict, "批次 %s 已开具单位票据 %s %s", req.BatchNo, prior.BillCode, prior.BillNo)
		}
		toIssue = []*bill.Settlement{unitBill}
	}
	issued, err := s.IssueAllAt(ctx, place, bill.Exam, toIssue) // one upload: all stored, or none
	if err != nil {
		return nil, err
	}
	out := []examBatchBill{}
	var total bill.Money
	for _, iss := range issued {
		lb := iss.LedgerBill
		total += lb.Total
		out = append(out, examBatchBill{BusNo: lb.BusNo, Payer: lb.Payer, BillBatchCode: lb.BillCode, BillNo: lb.BillNo,
			Random: lb.CheckCode, TotalAmt: lb.Total.String()})
	}
	return map[string]any{"batchNo": string(req.BatchNo), "count": len(out), "totalAmt": total.String(), "bills": out}, nil
}

// mergeForUnit makes one settlement to the unit from the people's: lines
// of the same category added up, details kept, pay channels summed.
func mergeForUnit(req examBatchRequest, people []*bill.Settlement) (*bill.Settlement, error) {
	if req.Unit.Payer == "" {
		return nil, failMedical(ResultInvalid, "单位开票须填写 unit.payer（单位名称）")
	}
	first := people[0]
	m := &bill.Settlement{BusNo: req.BatchNo, BusType: first.BusType, BusDateTime: first.BusDateTime, PlaceCode: req.PlaceCode,
		Payee: first.Payee, Author: first.Author, Checker: first.Checker, Payer: req.Unit.Payer, PayerType: "2",
		IDCardNo: req.Unit.IDCardNo, Tel: req.Unit.Tel, CheckUpNo: req.BatchNo,
		Remark: bill.Text(fmt.Sprintf("体检批次 %s，共 %d 人", req.BatchNo, len(people)))}
	cats := map[bill.Text]int{}
	channels := map[bill.Text]int{}
	for _, p := range people {
		m.TotalAmt += p.TotalAmt
		for _, c := range p.ChargeDetail {
			if i, ok := cats[c.ChargeCode]; ok {
				m.ChargeDetail[i].Amt += c.Amt
				m.ChargeDetail[i].SelfAmt += c.SelfAmt
				continue
			}
			cats[c.ChargeCode] = len(m.ChargeDetail)
			c.Number, c.Std = 0, 0
			m.ChargeDetail = append(m.ChargeDetail, c)
		}
		for _, d := range p.ListDetail {
			d.Remark = p.Payer
			m.ListDetail = append(m.ListDetail, d)
		}
		for _, c := range p.PayChannelDetail {
			if i, ok := channels[c.Code]; ok {
				m.PayChannelDetail[i].Value += c.Value
				continue
			}
			channels[c.Code] = len(m.PayChannelDetail)
			m.PayChannelDetail = append(m.PayChannelDetail, c)
		}
	}
	m.Normalize()
	if err := m.Validate(bill.Exam); err != nil {
		return nil, failMedical(ResultInvalid, "合并为单位票据后校验未通过：%s", bill.ErrorMessage(err))
	}
	return m, nil
}
