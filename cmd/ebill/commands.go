package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/textout"
	"github.com/ebill/ebill/localstore"
	ebsync "github.com/ebill/ebill/sync"
)

func cmdInit(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("init", "--place 开票点编码 [--name 名称] [--unit 单位名称] [--unit-code 统一社会信用代码] [--demo]")
	var p localstore.InitParams
	fs.StringVar(&p.PlaceCode, "place", "", "开票点编码（必填）")
	fs.StringVar(&p.PlaceName, "name", "", "开票点名称，例如 门诊收费一号窗口")
	fs.StringVar(&p.UnitName, "unit", "", "开票单位名称")
	fs.StringVar(&p.UnitCreditCode, "unit-code", "", "开票单位统一社会信用代码")
	demo := fs.Bool("demo", false, "生成本地演示号段和纸质票据，无需服务器即可开票（仅供演示和培训）")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("place", p.PlaceCode); err != nil {
		return err
	}
	if p.UnitCreditCode != "" {
		if err := bill.CheckCreditCode(p.UnitCreditCode); err != nil {
			return err
		}
	}
	if *demo && p.UnitName == "" {
		p.UnitName = "演示医院"
	}
	s, err := a.create(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	st, err := s.Init(ctx, p)
	if err != nil {
		return err
	}
	if *demo {
		if err := s.SetupDemo(ctx, time.Now().In(bill.Beijing).Year()); err != nil {
			return err
		}
	}
	if a.JSON {
		a.PrintJSON(map[string]any{"placeCode": st.PlaceCode, "dataDir": a.dataDir, "database": s.Path(),
			"publicKey": st.PublicKeyPEM, "demo": *demo})
		return nil
	}
	a.Printf("已初始化开票点 %s，数据文件：%s\n", st.PlaceCode, s.Path())
	if *demo {
		a.Printf("已生成演示号段（每种票据代码 %d 个号码）和纸质票据 %s 0000000001–%010d。\n",
			localstore.DemoSegmentSize, localstore.DemoPaperCode, localstore.DemoPaperSize)
	} else {
		a.Printf("尚无号段：请从服务器注册（ebill enroll）或由票据管理员分配号段后再开票。\n")
	}
	return nil
}

func cmdEnroll(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("enroll", "--server https://服务器:8443 --code 注册码 [--fingerprint 证书指纹]")
	server := fs.String("server", "", "服务器地址")
	code := fs.String("code", "", "票据管理员提供的一次性注册码")
	fingerprint := fs.String("fingerprint", "", "服务器证书指纹（服务器使用自签名证书时必填，向信息科索取）")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("server", *server, "code", *code); err != nil {
		return err
	}
	if strings.HasPrefix(*server, "https://") && *fingerprint == "" {
		a.Printf("提示：未填写 --fingerprint，将按系统证书验证服务器；服务器使用自签名证书时请填写证书指纹。\n")
	}
	s, err := a.create(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	st, err := ebsync.Enroll(ctx, s, *server, *fingerprint, *code)
	if err != nil {
		return err
	}
	stock, err := s.Stock(ctx)
	if err != nil {
		return err
	}
	if a.JSON {
		a.PrintJSON(map[string]any{"placeCode": st.PlaceCode, "placeName": st.PlaceName, "unitName": st.UnitName,
			"server": st.ServerURL, "stock": nonNil(stock)})
		return nil
	}
	a.Printf("注册成功：本机为开票点 %s %s（%s），服务器 %s\n", st.PlaceCode, st.PlaceName, st.UnitName, st.ServerURL)
	for _, c := range stock {
		a.Printf("  号段 %s：%d 个号码，下一号码 %s\n", c.BillCode, c.Remaining, bill.FormatBillNo(c.Next))
	}
	return nil
}

func cmdIssue(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("issue", "-f 结算文件.json [--kind outpatient|inpatient|registration|exam]")
	file := fs.String("f", "", "结算数据文件（invoiceEBillOutpatient 的业务 JSON）；- 表示标准输入")
	kindText := fs.String("kind", "", "票据种类；不填时按文件内容判断：有 checkUpNo 为体检，有住院号或入院日期为住院，busType 06 为挂号，其余为门诊")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("f", *file); err != nil {
		return err
	}
	raw, err := readInput(*file)
	if err != nil {
		return err
	}
	set, err := bill.ParseSettlement(raw)
	if err != nil {
		return err
	}
	kind, err := chooseKind(*kindText, set)
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		res, err := s.Issue(ctx, kind, set)
		if err != nil {
			return err
		}
		a.printIssued(res)
		return nil
	})
}

func readInput(name string) ([]byte, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = readAllLimited(os.Stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, bill.Errorf(bill.EInvalid, "无法读取结算文件 %s：%v", name, err)
	}
	return b, nil
}

// chooseKind takes --kind, or infers the kind from the settlement.
func chooseKind(flagValue string, s *bill.Settlement) (bill.Kind, error) {
	if flagValue != "" {
		return bill.ParseKind(flagValue)
	}
	return bill.InferKind(s), nil
}

func (a *app) printIssued(res *localstore.IssueResult) {
	b := res.Bill
	if a.JSON {
		out := map[string]any{"id": b.ID, "billCode": b.BillCode, "billNo": b.BillNoText(), "checkCode": b.CheckCode,
			"kind": b.Kind, "total": b.Total, "issuedAt": beijing(b.IssuedAt), "duplicate": res.Duplicate,
			"warnings": nonNil(res.Warnings)}
		if b.RedOf != "" {
			out["redOf"] = b.Bill.Red.OrigBillCode + " " + b.Bill.Red.OrigBillNo
		}
		a.PrintJSON(out)
		return
	}
	switch {
	case res.Duplicate:
		a.Printf("该业务流水号已开具过票据，返回原票据（未重复开票）：\n")
	case b.RedOf != "":
		a.Printf("已开具红字票据（冲红 %s %s）：\n", b.Bill.Red.OrigBillCode, b.Bill.Red.OrigBillNo)
	default:
		a.Printf("开票成功：\n")
	}
	a.Printf("  票据代码  %s\n  票据号码  %s\n  校验码    %s\n  金额      %s 元（%s）\n  开票时间  %s\n",
		b.BillCode, b.BillNoText(), b.CheckCode, b.Total, b.Total.Capitals(), beijing(b.IssuedAt))
	for _, w := range res.Warnings {
		a.Printf("提示：%s\n", w)
	}
}

func cmdRed(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("red", "--code 票据代码 --no 票据号码 | --busno 业务流水号  --reason 原因 [--operator 经办人]")
	ref := billRefFlags(fs, "原票据")
	reason := fs.String("reason", "", "冲红原因（必填）")
	operator := fs.String("operator", currentUser(), "经办人（收款人），默认当前系统用户")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("reason", *reason); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		code, n, err := ref.resolve(ctx, s)
		if err != nil {
			return err
		}
		res, err := s.Reverse(ctx, code, n, *reason, *operator)
		if err != nil {
			return err
		}
		a.printIssued(res)
		return nil
	})
}

func cmdStock(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("stock", "")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		segs, err := s.Segments(ctx)
		if err != nil {
			return err
		}
		stock, err := s.Stock(ctx)
		if err != nil {
			return err
		}
		if a.JSON {
			a.PrintJSON(map[string]any{"stock": nonNil(stock), "segments": nonNil(segs)})
			return nil
		}
		if len(stock) == 0 {
			a.Printf("本机没有号段。\n")
			return nil
		}
		w := textout.NewTable(a.Stdout)
		fmt.Fprintln(w, "票据代码\t号段数\t总数\t已用\t剩余\t下一号码\t预警")
		for _, cs := range stock {
			n := 0
			for _, sg := range segs {
				if sg.Code == cs.BillCode {
					n++
				}
			}
			alert := ""
			if cs.Alert {
				alert = fmt.Sprintf("低于 %d，请申请号段", cs.Threshold)
			}
			next := "已用完"
			if cs.Next > 0 {
				next = bill.FormatBillNo(cs.Next)
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", cs.BillCode, n, cs.Total, cs.Used, cs.Remaining, next, alert)
		}
		w.Flush()
		a.Printf("\n号段明细：\n")
		w = textout.NewTable(a.Stdout)
		fmt.Fprintln(w, "票据代码\t起始号码\t终止号码\t剩余\t来源\t取得时间")
		for _, sg := range segs {
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", sg.Code, bill.FormatBillNo(sg.Start), bill.FormatBillNo(sg.End),
				sg.Remaining(), sourceName(sg.Source), beijing(sg.AddedAt))
		}
		return w.Flush()
	})
}

func sourceName(s string) string {
	switch s {
	case localstore.SourceServer:
		return "服务器分配"
	case localstore.SourceDemo:
		return "本地演示"
	}
	return s
}

func cmdVerify(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("verify", "")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		rep, err := s.Verify(ctx)
		if err != nil {
			return err
		}
		var problems []string
		for _, p := range rep.Problems {
			problems = append(problems, p.String())
		}
		if a.JSON {
			a.PrintJSON(map[string]any{"valid": rep.OK(), "bills": rep.Bills, "problems": nonNil(problems)})
		} else if rep.OK() {
			a.Printf("校验通过：共 %d 张票据，签名、哈希链和号码连续性均有效（链条完整）。\n", rep.Bills)
		} else {
			a.Printf("校验失败：共 %d 张票据，发现 %d 处问题：\n", rep.Bills, len(problems))
			for _, p := range problems {
				a.Printf("  %s\n", p)
			}
		}
		if !rep.OK() {
			return bill.Errorf(bill.ETampered, "本机票据数据校验未通过（可能被篡改或损坏），请立即停止开票并联系信息科和票据管理员。")
		}
		return nil
	})
}

func cmdBackup(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("backup", "--to 备份文件路径")
	to := fs.String("to", "", "备份文件（不能已存在），例如 D:\\ebill-backup\\station-20261125.db")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("to", *to); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		if err := s.Backup(ctx, *to); err != nil {
			return err
		}
		return a.Report(map[string]any{"backup": *to}, "已备份到 %s。恢复前请阅读 docs/运维手册.md 的“备份与恢复”。\n", *to)
	})
}

func cmdVersion(_ context.Context, a *app, args []string) error {
	if a.JSON {
		a.PrintJSON(map[string]string{"version": Version})
		return nil
	}
	a.Printf("ebill %s\n", Version)
	return nil
}

// beijing writes t in Beijing time for people.
func beijing(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(bill.Beijing).Format("2006-01-02 15:04:05")
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// nonNil makes nil slices print as [] in JSON.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// billRef names a bill on the command line: by code and number, or by the
// HIS's business serial (BusNo), which is what a cashier usually has.
type billRef struct{ code, no, busNo *string }

func billRefFlags(fs *flag.FlagSet, what string) billRef {
	return billRef{
		code:  fs.String("code", "", what+"代码"),
		no:    fs.String("no", "", what+"号码"),
		busNo: fs.String("busno", "", "或用业务流水号指定"+what),
	}
}

func (r billRef) resolve(ctx context.Context, s *localstore.Store) (string, int64, error) {
	if *r.busNo != "" {
		b, err := s.BillByBusNo(ctx, *r.busNo)
		if err != nil {
			return "", 0, err
		}
		return b.BillCode, b.BillNo, nil
	}
	if err := required("code", *r.code, "no", *r.no); err != nil {
		return "", 0, bill.Errorf(bill.EInvalid, "请用 --code 和 --no，或用 --busno 指定票据")
	}
	n, err := bill.ParseBillNo(*r.no)
	return *r.code, n, err
}
