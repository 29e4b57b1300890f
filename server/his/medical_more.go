package his

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/server"
)

// Services of the Bosssoft v3.2 reference (bosssoft-v3.md) beyond issuing,
// reversal, paper and reconciliation, and the answer for the services a
// hospital-side server does not provide.

// SuccessText is an answer whose message is a text, not a JSON document:
// the reference's "base64 success text".
type SuccessText string

// ResultPlatformOnly and ResultNotProvided answer the services of the
// reference this server does not run, with a reason, so that a client
// sees a documented answer rather than an unknown service (E1008), which
// clients treat as an outage.
const (
	ResultPlatformOnly = "E1012" // a service of the finance bureau's platform itself
	ResultNotProvided  = "E1013" // a service of the reference this server does not provide (yet)
)

// notProvided lists the reference's services that are not ours to run,
// with the reason a caller is told.
var notProvided = map[string]struct{ code, why string }{
	// 汇总单入账: the finance platform's accounting of the unit's bills.
	"generateAccount":  {ResultPlatformOnly, "入账汇总单由财政电子票据平台生成，请在财政平台办理"},
	"getEBillAcList":   {ResultPlatformOnly, "入账汇总单由财政电子票据平台管理，请在财政平台查询"},
	"downEBillAccount": {ResultPlatformOnly, "入账汇总单由财政电子票据平台管理，请在财政平台下载"},
	"registerEBillAcc": {ResultPlatformOnly, "入账备案在财政电子票据平台办理"},
	"cancelEBillAcc":   {ResultPlatformOnly, "入账备案在财政电子票据平台办理"},
	// 票据库存: the bureau issues stock; here stock is received and given
	// to billing points in the management console.
	"getBillStockOutList": {ResultPlatformOnly, "票据领用在财政电子票据平台办理；本院的票据库存请在管理后台“票源管理”中查看"},
	"billStockOut":        {ResultPlatformOnly, "票据库存下发请在管理后台“票源管理”中办理"},
	"billStockReturn":     {ResultPlatformOnly, "票据库存回退请在管理后台“票源管理”中办理"},
	// HIS pushing its own figures for the platform to check.
	"receiveCheckTotalData":    {ResultPlatformOnly, "本服务器不接收 HIS 推送的核对数据；请用 checkTotalData 等服务取回本服务器的数据在 HIS 端核对"},
	"receiveCheckWriteOffData": {ResultPlatformOnly, "本服务器不接收 HIS 推送的核对数据；请用 checkWriteOffData 取回数据在 HIS 端核对"},
	"receiveBillByBusDate":     {ResultPlatformOnly, "本服务器不接收 HIS 推送的开票信息；请用 getBillByBusDate 取回数据在 HIS 端核对"},
	"queryCheckTotalData":      {ResultPlatformOnly, "本服务器不接收 HIS 推送的核对数据，没有核对结果可查"},
	"queryCheckWriteOffData":   {ResultPlatformOnly, "本服务器不接收 HIS 推送的核对数据，没有核对结果可查"},
	"queryBillByBusDate":       {ResultPlatformOnly, "本服务器不接收 HIS 推送的开票信息，没有核对结果可查"},
	// The local 博思客户端组件 prints; this server does not drive printers.
	"printPaperBill":     {ResultPlatformOnly, "打印由收费电脑上的打印组件完成，不经服务器；请在收费电脑上打印"},
	"printElectBill":     {ResultPlatformOnly, "打印由收费电脑上的打印组件完成，不经服务器；可用 getEBillPicUrl 取查验页面打印"},
	"printElectBillList": {ResultPlatformOnly, "打印由收费电脑上的打印组件完成，不经服务器"},
	"turnPaperPrint":     {ResultPlatformOnly, "打印由收费电脑上的打印组件完成，不经服务器；请调用 turnPaper 登记换开，在收费电脑上打印"},
	"reTurnPaperPrint":   {ResultPlatformOnly, "打印由收费电脑上的打印组件完成，不经服务器；请调用 reTurnPaper 登记重新换开，在收费电脑上打印"},
	// Not provided until an SMS sender is set (ebill-server serve always
	// sets one).
	"sendBillNotice": {ResultNotProvided, "本服务器未配置短信通道，不能发送票据通知；患者可扫描票据二维码查验"},
}

// NotProvided answers a service of the reference this server does not
// run: its result code and reason; ok is false for other service ids.
func NotProvided(serviceID string) (code, why string, ok bool) {
	n, ok := notProvided[serviceID]
	return n.code, n.why, ok
}

// moreServices are the services of this file.
func (s *Adapter) moreServices(publicURL string) map[string]MedicalService {
	return map[string]MedicalService{
		"getEBillAccountStatus": s.medicalAccountStatus,
		"getValidBillNo":        s.medicalValidBillNo,
		"testServerConnect": func(context.Context, *server.HISApp, []byte) (any, error) {
			return SuccessText("连接成功"), nil
		},
		"getEBillPicUrl": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			lb, err := s.billWithRandom(ctx, app, data)
			if err != nil {
				return nil, err
			}
			f, err := s.issuedFields(ctx, lb, publicURL)
			if err != nil {
				return nil, err
			}
			return map[string]string{"pictureUrl": f.PictureURL, "pictureNetUrl": f.PictureNetURL}, nil
		},
		"getEBillNotifyPic": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalNotifyPic(ctx, app, data, publicURL)
		},
		"writeOffEBillToPaper": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			// The bill's paper copy is voided with the reversal; no paper
			// red bill is printed here.
			return s.medicalWriteOff(ctx, app, data, publicURL)
		},
		"getEBillFile": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalFile(ctx, app, data, publicURL)
		},
		"getEBillPrintList":      s.medicalPrintedList,
		"receiveArreasFeedBack":  s.medicalArrearsFeedback,
		"getElectBilllListTotal": s.medicalListPages,
	}
}

// billWithRandom loads the bill a request names by billBatchCode, billNo
// and (when sent) random, the check code.
func (s *Adapter) billWithRandom(ctx context.Context, app *server.HISApp, data []byte) (*server.LedgerBill, error) {
	var req struct{ BillBatchCode, BillNo, Random bill.Text }
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	lb, err := s.billFor(ctx, app, string(req.BillBatchCode), req.BillNo)
	if err != nil {
		return nil, err
	}
	if r := strings.TrimSpace(string(req.Random)); r != "" && !strings.EqualFold(r, lb.CheckCode) {
		return nil, failMedical(ResultNotFound, "未找到票据 %s %s（校验码不符）", lb.BillCode, lb.BillNo)
	}
	return lb, nil
}

// medicalAccountStatus is getEBillAccountStatus: whether the finance
// bureau has booked the bill (入账). Booking happens at the bureau's
// platform, not here, so a bill this server holds is 0 (未入账): the state
// in which ZLHIS (v3.1/v3.2), which asks before every refund, goes on to
// refund.
func (s *Adapter) medicalAccountStatus(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	if _, err := s.billWithRandom(ctx, app, data); err != nil {
		return nil, err
	}
	return map[string]string{"state": "0"}, nil
}

// validRange is one item of getValidBillNo.
type validRange struct {
	BillCode      string `json:"billCode"`
	BillBatchCode string `json:"billBatchCode"`
	BillBgnNo     string `json:"billBgnNo"`
	BillEndNo     string `json:"billEndNo"`
}

// medicalValidBillNo is getValidBillNo: the numbers a point can still use —
// the unused part of its e-bill segments (billCode: the bill kind) and of
// its paper (billCode "paper") — filtered by billCode or billBatchCode.
// The list is answered under both names the reference uses (billNoList in
// its table, pBillNoList in its example).
func (s *Adapter) medicalValidBillNo(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	var req struct{ PlaceCode, BillCode, BillBatchCode bill.Text }
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	place, err := placeFor(app, req.PlaceCode)
	if err != nil {
		return nil, err
	}
	kinds, err := s.BillKinds(ctx)
	if err != nil {
		return nil, err
	}
	kindOf := map[string]string{}
	for k, code := range kinds {
		if kindOf[code] == "" {
			kindOf[code] = string(k)
		}
	}
	list := []validRange{}
	add := func(kind, code string, from, to int64) {
		if from > to || (req.BillCode != "" && string(req.BillCode) != kind) || (req.BillBatchCode != "" && string(req.BillBatchCode) != code) {
			return
		}
		list = append(list, validRange{BillCode: kind, BillBatchCode: code, BillBgnNo: bill.FormatBillNo(from), BillEndNo: bill.FormatBillNo(to)})
	}
	segs, err := s.Segments(ctx, place)
	if err != nil {
		return nil, err
	}
	for _, sg := range segs {
		add(kindOf[sg.BillCode], sg.BillCode, sg.Start+sg.Used, sg.End)
	}
	papers, err := s.PaperRanges(ctx, place)
	if err != nil {
		return nil, err
	}
	for _, r := range papers {
		if r.Current > 0 {
			add("paper", r.Code, r.Current, r.End)
		}
	}
	return map[string]any{"count": len(list), "billNoList": list, "pBillNoList": list}, nil
}

// medicalNotifyPic is getEBillNotifyPic: the bill's QR code and, when
// isReturnPic is 1, a picture of the bill (the notice slip a kiosk shows).
func (s *Adapter) medicalNotifyPic(ctx context.Context, app *server.HISApp, data []byte, publicURL string) (any, error) {
	var req struct{ IsReturnPic bill.Text }
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	lb, err := s.billWithRandom(ctx, app, data)
	if err != nil {
		return nil, err
	}
	f, err := s.issuedFields(ctx, lb, publicURL)
	if err != nil {
		return nil, err
	}
	out := map[string]string{"billBatchCode": f.BillBatchCode, "billNo": f.BillNo, "random": f.Random, "createTime": f.CreateTime,
		"billQRCode": f.BillQRCode, "pictureData": ""}
	if req.IsReturnPic == "1" {
		font, err := printing.DefaultFont()
		if err != nil {
			return nil, err
		}
		info, err := s.BillFaceInfo(ctx, lb, publicURL)
		if err != nil {
			return nil, err
		}
		img, err := printing.Image(printing.Face(info, font), 0, font, 100)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			return nil, err
		}
		out["pictureData"] = base64.StdEncoding.EncodeToString(b.Bytes())
	}
	return out, nil
}

// medicalFile is getEBillFile, a service of ours that the reference does
// not have (its only file services return the 汇总单 PDF and a PNG of the
// face): the e-bill itself as PDF or OFD (fileType, PDF when empty), as a
// patient downloads it, for HIS to archive or hand on.
func (s *Adapter) medicalFile(ctx context.Context, app *server.HISApp, data []byte, publicURL string) (any, error) {
	var req struct{ FileType bill.Text }
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	fileType, err := server.ParseFileType(string(req.FileType))
	if err != nil {
		return nil, failMedical(ResultInvalid, "fileType（文件类型）只能是 PDF 或 OFD")
	}
	lb, err := s.billWithRandom(ctx, app, data)
	if err != nil {
		return nil, err
	}
	file, err := s.BillFile(ctx, lb, publicURL, fileType)
	if err != nil {
		return nil, err
	}
	return map[string]string{"billBatchCode": lb.BillCode, "billNo": lb.BillNo, "random": lb.CheckCode,
		"fileType": strings.ToUpper(fileType), "fileName": server.BillFileName(lb, fileType),
		"fileData": base64.StdEncoding.EncodeToString(file)}, nil
}

// medicalListPages is getElectBilllListTotal: how many pages the bill's
// detail list has (0 when it has none).
func (s *Adapter) medicalListPages(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	lb, err := s.billWithRandom(ctx, app, data)
	if err != nil {
		return nil, err
	}
	font, err := printing.DefaultFont()
	if err != nil {
		return nil, err
	}
	doc := printing.Face(printing.BillInfo{Bill: lb.Bill, CheckCode: lb.CheckCode}, font)
	return map[string]any{"total": len(doc.Pages) - 1}, nil
}

// medicalPrintedList is getEBillPrintList: a patient's bills turned to
// paper (live paper) in a period of at most a week, paged.
func (s *Adapter) medicalPrintedList(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	var req struct {
		BusBgnDate, BusEndDate, PlaceCode, PageNo, PageSize, BusType, CardType, CardNo, IDCardNo, PatientID bill.Text
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	from, err := parseMedicalDate("busBgnDate", string(req.BusBgnDate))
	if err != nil {
		return nil, err
	}
	to, err := parsePeriodEnd("busEndDate", string(req.BusEndDate))
	if err != nil {
		return nil, err
	}
	if to.Sub(from) > 8*24*time.Hour {
		return nil, failMedical(ResultInvalid, "查询范围不能超过一周")
	}
	if strings.TrimSpace(string(req.CardNo)) == "" {
		return nil, failMedical(ResultInvalid, "cardNo（卡号）不能为空")
	}
	places, err := placesOf(app, req.PlaceCode)
	if err != nil {
		return nil, err
	}
	page, size, err := paging(req.PageNo, req.PageSize)
	if err != nil {
		return nil, err
	}
	cardBills, err := s.CardBills(ctx, places, string(req.CardNo), from, to)
	if err != nil {
		return nil, err
	}
	list := []map[string]string{}
	for _, lb := range cardBills {
		st := &lb.Bill.Settlement
		if (req.CardType != "" && st.CardType != req.CardType) || (req.BusType != "" && st.BusType != req.BusType) ||
			(req.PatientID != "" && st.PatientID != req.PatientID) {
			continue
		}
		paper, err := s.LivePaper(ctx, lb.ID)
		if ok, err := found(err); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		list = append(list, map[string]string{"busDate": MedicalTime(server.BusinessTime(lb.Bill)), "placeCode": lb.Point,
			"billName": billName(lb.Kind), "billBatchCode": lb.BillCode, "billNo": lb.BillNo, "relatedBillBatchCode": paper.Code,
			"relatedBillNo": bill.FormatBillNo(paper.No), "ivcDateTime": MedicalTime(lb.IssuedAt)})
	}
	total := len(list)
	start := min((page-1)*size, total)
	return map[string]any{"total": total, "pageNo": page, "billList": list[start:min(start+size, total)]}, nil
}

// truncate shortens s to at most n runes (echoing what a caller sent).
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// NoticeService is sendBillNotice: the bill's verification link sent to
// the patient's phone (noticeType 1201) through sender. E-mail (1202) is
// not sent; a request that asks for it sends nothing.
func (s *Adapter) NoticeService(publicURL string, sender server.Sender) MedicalService {
	return func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
		var req struct {
			BillBatchCode, BillNo bill.Text
			NoticeList            []struct{ NoticeType, NoticeValue bill.Text }
		}
		if err := decodeBusiness(data, &req); err != nil {
			return nil, err
		}
		lb, err := s.billFor(ctx, app, string(req.BillBatchCode), req.BillNo)
		if err != nil {
			return nil, err
		}
		if len(req.NoticeList) == 0 {
			return nil, failMedical(ResultInvalid, "noticeList（通知列表）不能为空")
		}
		var phones []string
		for i, n := range req.NoticeList {
			v := strings.TrimSpace(string(n.NoticeValue))
			switch n.NoticeType {
			case "1201":
				if len(v) != 11 || strings.Trim(v, "0123456789") != "" {
					return nil, failMedical(ResultInvalid, "noticeList[%d].noticeValue 应为 11 位手机号码", i)
				}
				phones = append(phones, v)
			case "1202":
				return nil, failMedical(ResultInvalid, "暂不支持电子邮件通知（noticeType 1202），请改用手机短信（1201）；没有发送任何通知")
			default:
				return nil, failMedical(ResultInvalid, "noticeList[%d].noticeType 应为 1201（手机）或 1202（电子邮件），收到 %q", i, truncate(string(n.NoticeType), 10))
			}
		}
		f, err := s.issuedFields(ctx, lb, publicURL)
		if err != nil {
			return nil, err
		}
		text := "【" + lb.Bill.UnitName + "】您的医疗电子票据 " + lb.BillCode + " " + lb.BillNo + "（金额 " + lb.Total.String() + " 元）已开具"
		if f.PictureURL != "" {
			text += "，查验及下载：" + f.PictureURL
		}
		for _, p := range phones {
			if err := sender.Send(ctx, p, text); err != nil {
				return nil, bill.Errorf(bill.EUnavailable, "短信发送失败：%v", err)
			}
		}
		return SuccessText("成功"), nil
	}
}

// medicalArrearsFeedback is receiveArreasFeedBack: HIS says that a bill
// issued while the patient was in arrears may now circulate. The first
// day said is kept; a repeat is answered as a success (a retry).
func (s *Adapter) medicalArrearsFeedback(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
	var req struct{ BillBatchCode, BillNo, FeedBackDate bill.Text }
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	day := strings.TrimSpace(string(req.FeedBackDate))
	at, err := time.Parse("2006-01-02", day)
	if err != nil {
		if at, err = time.Parse("20060102", day); err != nil {
			return nil, failMedical(ResultInvalid, "feedBackDate（反馈时间）应为 yyyy-MM-dd，例如 2026-12-01，收到 %q", day)
		}
	}
	lb, err := s.billFor(ctx, app, strings.TrimSpace(string(req.BillBatchCode)), req.BillNo)
	if err != nil {
		return nil, err
	}
	if lb.RedOf != "" {
		return nil, failMedical(ResultInvalid, "%s %s 是红字票据，没有流通状态", lb.BillCode, lb.BillNo)
	}
	if err := s.RecordArrearsFeedback(ctx, lb.ID, at.Format("2006-01-02"), app.AppID); err != nil {
		return nil, err
	}
	return SuccessText("成功"), nil
}
