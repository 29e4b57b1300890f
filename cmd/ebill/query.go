package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/cli"
	"github.com/ebill/ebill/cmd/internal/textout"
	"github.com/ebill/ebill/localstore"
)

func cmdList(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("list", "[--from 2026-11-01] [--to 2026-11-30] [--kind 种类] [--payer 姓名] [--busno 流水号] [--patient 就诊号] [--state normal|reversed|red|paper] [--page 1] [--size 50]")
	from := fs.String("from", "", "开票日期起（含），yyyy-MM-dd")
	to := fs.String("to", "", "开票日期止（含），yyyy-MM-dd")
	kind := fs.String("kind", "", "票据种类")
	var f localstore.Filter
	fs.StringVar(&f.Payer, "payer", "", "交款人（部分匹配）")
	fs.StringVar(&f.BusNo, "busno", "", "业务流水号")
	fs.StringVar(&f.PatientNo, "patient", "", "患者就诊编号")
	fs.StringVar(&f.BillCode, "code", "", "票据代码")
	fs.StringVar(&f.State, "state", "", "状态：normal 正常 | reversed 已冲红 | red 红字 | paper 已换开纸质")
	page := cli.Int(fs, "page", 1, 1, "页码")
	size := cli.Int(fs, "size", 50, 1, "每页条数（最多 1000）")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	f.Limit = *size
	var err error
	if f.From, err = parseDay(*from, "from"); err != nil {
		return err
	}
	if f.To, err = parseDay(*to, "to"); err != nil {
		return err
	}
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1) // inclusive day
	}
	if *kind != "" {
		if f.Kind, err = bill.ParseKind(*kind); err != nil {
			return err
		}
	}
	if *page < 1 || f.Limit < 1 {
		return bill.Errorf(bill.EInvalid, "页码和每页条数应为正整数")
	}
	f.Offset = (*page - 1) * f.Limit
	return a.withStore(ctx, func(s *localstore.Store) error {
		bills, total, err := s.ListBills(ctx, f)
		if err != nil {
			return err
		}
		if a.JSON {
			rows := make([]map[string]any, 0, len(bills))
			for _, b := range bills {
				rows = append(rows, billSummary(b))
			}
			a.PrintJSON(map[string]any{"total": total, "page": *page, "bills": rows})
			return nil
		}
		w := textout.NewTable(a.Stdout)
		fmt.Fprintln(w, "开票时间\t种类\t票据代码\t票据号码\t校验码\t交款人\t金额(元)\t状态\t纸质票据\t上传")
		for _, b := range bills {
			paper := ""
			if b.PaperCode != "" {
				paper = b.PaperCode + " " + bill.FormatBillNo(b.PaperNo)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", beijing(b.IssuedAt), b.Kind.Name(), b.BillCode,
				b.BillNoText(), b.CheckCode, b.Payer, b.Total, b.State(), paper, yesNo(b.Synced, "已上传", "待上传"))
		}
		w.Flush()
		pages := (total + f.Limit - 1) / f.Limit
		a.Printf("共 %d 张，第 %d/%d 页\n", total, *page, max(pages, 1))
		return nil
	})
}

func billSummary(b *localstore.StoredBill) map[string]any {
	m := map[string]any{"id": b.ID, "seq": b.Seq, "kind": b.Kind, "billCode": b.BillCode, "billNo": b.BillNoText(),
		"checkCode": b.CheckCode, "busNo": b.BusNo, "payer": b.Payer, "total": b.Total, "issuedAt": beijing(b.IssuedAt),
		"payee": b.Payee, "state": b.State(), "synced": b.Synced}
	if b.PaperCode != "" {
		m["paperCode"], m["paperNo"] = b.PaperCode, bill.FormatBillNo(b.PaperNo)
	}
	if b.RedBy != "" {
		m["reversedBy"] = b.RedBy
	}
	return m
}

func parseDay(s, name string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, bill.Beijing)
	if err != nil {
		return time.Time{}, bill.FieldErrorf(name, "日期 %q 格式不正确，应为 yyyy-MM-dd，例如 2026-11-25", s)
	}
	return t, nil
}

func yesNo(v bool, yes, no string) string {
	if v {
		return yes
	}
	return no
}

func cmdShow(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("show", "--code 票据代码 --no 票据号码 | --busno 业务流水号")
	code := fs.String("code", "", "票据代码")
	no := fs.String("no", "", "票据号码")
	busNo := fs.String("busno", "", "业务流水号")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		var b *localstore.StoredBill
		var err error
		if *busNo != "" {
			b, err = s.BillByBusNo(ctx, *busNo)
		} else {
			if err := required("code", *code, "no", *no); err != nil {
				return err
			}
			n, perr := bill.ParseBillNo(*no)
			if perr != nil {
				return perr
			}
			b, err = s.Bill(ctx, *code, n)
		}
		if err != nil {
			return err
		}
		if a.JSON {
			m := billSummary(b)
			m["bill"] = b.Bill
			a.PrintJSON(m)
			return nil
		}
		printBill(a.Stdout, b)
		return nil
	})
}

// printBill writes a bill's face in Chinese, the ID number masked.
func printBill(out io.Writer, b *localstore.StoredBill) {
	s := b.Bill.Settlement
	title := "医疗" + b.Kind.Name() + "收费票据（电子）"
	if b.RedOf != "" {
		title += " 【红字】"
	}
	fmt.Fprintf(out, "%s\n", title)
	fmt.Fprintf(out, "票据代码：%s  票据号码：%s  校验码：%s  开票日期：%s\n", b.BillCode, b.BillNoText(), b.CheckCode, beijing(b.IssuedAt))
	fmt.Fprintf(out, "交款人：%s  证件号：%s  状态：%s\n", s.Payer, bill.MaskID(string(s.IDCardNo)), b.State())
	if b.Bill.Red != nil {
		fmt.Fprintf(out, "原票据：%s %s  冲红原因：%s\n", b.Bill.Red.OrigBillCode, b.Bill.Red.OrigBillNo, b.Bill.Red.Reason)
	}
	w := textout.NewTable(out)
	fmt.Fprintln(w, "项目\t数量\t单位\t金额(元)\t自费(元)")
	for _, c := range s.ChargeDetail {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.ChargeName, c.Number, c.Unit, c.Amt, c.SelfAmt)
	}
	w.Flush()
	fmt.Fprintf(out, "合计（大写）：%s    （小写）：%s\n", s.TotalAmt.Capitals(), s.TotalAmt)
	fmt.Fprintf(out, "业务流水号：%s  就诊编号：%s  就诊日期：%s  医保类型：%s  性别：%s\n",
		s.BusNo, s.PatientNo, s.ConsultationDate, s.MedicalCareType, s.Sex)
	fmt.Fprintf(out, "统筹基金：%s  个人账户：%s  其他医保：%s  个人自费：%s  个人自负：%s  个人自付：%s  个人现金：%s\n",
		s.FundPay, s.AccountPay, s.OtherFundPay, s.OwnPay, s.SelfConceitedAmt, s.SelfPayAmt, s.SelfCashPay)
	fmt.Fprintf(out, "收款单位：%s  复核人：%s  收款人：%s\n", b.Bill.UnitName, s.Checker, s.Payee)
	if b.PaperCode != "" {
		fmt.Fprintf(out, "纸质票据：%s %s\n", b.PaperCode, bill.FormatBillNo(b.PaperNo))
	}
	if b.RedBy != "" {
		fmt.Fprintf(out, "红字票据：%s\n", b.RedBy)
	}
}

func cmdStatus(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("status", "")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		st, err := s.Status(ctx)
		if err != nil {
			return err
		}
		if a.JSON {
			a.PrintJSON(map[string]any{"placeCode": st.Station.PlaceCode, "serverUrl": st.Station.ServerURL,
				"pending": st.Pending, "pendingAmount": st.PendingAmount, "oldestPending": beijing(st.OldestPending),
				"rejected": st.Rejected, "offlineHoursLeft": st.TimeLeft.Hours(), "limits": st.Limits, "usage": st.Usage, "stock": nonNil(st.Stock),
				"paper": nonNil(st.Paper), "warnings": nonNil(st.Warnings), "bills": st.Station.ChainSeq})
			return nil
		}
		server := st.Station.ServerURL
		if server == "" {
			server = "未配置（单机/演示）"
		} else if ss, err := s.SyncState(ctx); err == nil {
			switch {
			case ss.LastAttempt.IsZero():
				server += "（尚未同步）"
			case ss.Online && ss.LastError == "":
				server += "（在线，最近同步 " + beijing(ss.LastSuccess) + "）"
			case ss.Online:
				server += "（在线，最近一次同步出错：" + ss.LastError + "）"
			default:
				server += "（离线：" + ss.LastError + "）"
			}
		}
		a.Printf("开票点：%s %s    服务器：%s\n", st.Station.PlaceCode, st.Station.PlaceName, server)
		a.Printf("已开票据：%d 张    待上传：%d 张，%s 元", st.Station.ChainSeq, st.Pending, st.PendingAmount)
		if !st.OldestPending.IsZero() {
			a.Printf("（最早 %s）", beijing(st.OldestPending))
		}
		a.Printf("\n\n离线额度：\n")
		for _, u := range st.Usage {
			a.Printf("  %-6s %s / %s（%.0f%%）\n", u.Name, u.Used, u.Limit, u.Ratio*100)
		}
		a.Printf("  单张上限 %s 元\n", st.Limits.MaxSingle)
		if st.TimeLeft > 0 {
			a.Printf("  距离线时长上限还有 %.1f 小时\n", st.TimeLeft.Hours())
		}
		a.Printf("\n号段库存：\n")
		for _, cs := range st.Stock {
			a.Printf("  %s  剩余 %d 个号码%s\n", cs.BillCode, cs.Remaining, yesNo(cs.Alert, "  ⚠ 库存预警", ""))
		}
		if len(st.Paper) > 0 {
			a.Printf("\n纸质票据：\n")
			for _, p := range st.Paper {
				next := "已用完"
				if p.Next > 0 {
					next = bill.FormatBillNo(p.Next)
				}
				a.Printf("  %s  当前号码 %s，剩余 %d 张\n", p.Code, next, p.Remaining)
			}
		}
		if len(st.Warnings) > 0 {
			a.Printf("\n提示：\n")
			for _, w := range st.Warnings {
				a.Printf("  %s\n", w)
			}
		}
		return nil
	})
}

// readAllLimited reads a settlement from a stream, refusing runaway input.
func readAllLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, bill.MaxSettlementBytes+1))
	if err == nil && len(b) > bill.MaxSettlementBytes {
		return nil, fmt.Errorf("超过 %d 字节", bill.MaxSettlementBytes)
	}
	return b, err
}
