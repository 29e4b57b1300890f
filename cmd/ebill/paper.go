package main

import (
	"context"
	"fmt"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing/stationprint"
)

var paperCommands = map[string]func(context.Context, *app, []string) error{
	"intake":     cmdPaperIntake,
	"current":    cmdPaperCurrent,
	"convert":    cmdPaperConvert,
	"reprint":    cmdPaperReprint,
	"void":       cmdPaperVoid,
	"blank-void": cmdPaperBlankVoid,
	"show":       cmdPaperShow,
}

func cmdPaper(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		if fn, ok := paperCommands[args[0]]; ok {
			return fn(ctx, a, args[1:])
		}
	}
	fmt.Fprintln(a.Stderr, "用法：ebill paper intake|current|convert|reprint|void|blank-void|show [参数]；ebill paper <子命令> -h 查看参数")
	return errUsage
}

// paperNumbers parses the optional and required number flags of paper commands.
func paperNumber(text, name string) (int64, error) {
	n, err := bill.ParseBillNo(text)
	if err != nil {
		return 0, bill.FieldErrorf(name, "%s", bill.ErrorMessage(err))
	}
	return n, nil
}

func cmdPaperIntake(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("paper intake", "--code 纸质票据代码 --from 起始号码 --to 终止号码")
	code := fs.String("code", "", "纸质票据代码")
	from := fs.String("from", "", "起始号码")
	to := fs.String("to", "", "终止号码")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("code", *code, "from", *from, "to", *to); err != nil {
		return err
	}
	start, err := paperNumber(*from, "from")
	if err != nil {
		return err
	}
	end, err := paperNumber(*to, "to")
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		if _, err := s.IntakePaper(ctx, bill.Segment{Code: *code, Start: start, End: end}); err != nil {
			return err
		}
		return a.Report(map[string]any{"paperCode": *code, "from": bill.FormatBillNo(start), "to": bill.FormatBillNo(end), "count": end - start + 1},
			"已入库纸质票据 %s %s–%s，共 %d 张。\n", *code, bill.FormatBillNo(start), bill.FormatBillNo(end), end-start+1)
	})
}

func cmdPaperCurrent(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("paper current", "[--paper-code 纸质票据代码]")
	code := fs.String("paper-code", "", "纸质票据代码（本机只有一种时可不填）")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		p, err := s.CurrentPaper(ctx, *code)
		if err != nil {
			return err
		}
		if p.Next == 0 {
			return bill.Errorf(bill.ENoStock, "纸质票据 %s 已用完；请先做纸质票据入库。", p.Code)
		}
		return a.Report(map[string]any{"paperCode": p.Code, "paperNo": bill.FormatBillNo(p.Next), "remaining": p.Remaining},
			"纸质票据 %s 当前号码 %s（剩余 %d 张）。打印前请核对打印机中纸张的号码。\n", p.Code, bill.FormatBillNo(p.Next), p.Remaining)
	})
}

func cmdPaperConvert(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("paper convert", "--code 票据代码 --no 票据号码 | --busno 业务流水号  --paper-code 纸质票据代码 --paper-no 打印机中的纸质号码")
	ref := billRefFlags(fs, "电子票据")
	paperCode := fs.String("paper-code", "", "纸质票据代码")
	paperNo := fs.String("paper-no", "", "打印机中纸张上的号码（须与系统当前号码一致）")
	operator := fs.String("operator", currentUser(), "经办人")
	pp := paperPrintFlags(fs)
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("paper-code", *paperCode, "paper-no", *paperNo); err != nil {
		return err
	}
	pn, err := paperNumber(*paperNo, "paper-no")
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		code, n, err := ref.resolve(ctx, s)
		if err != nil {
			return err
		}
		use, job, err := stationprint.ConvertToPaper(ctx, s, code, n, *paperCode, pn, *operator, func(ctx context.Context) (string, error) {
			return a.printPaper(ctx, s, pp, code, n, *paperCode)
		})
		if err != nil {
			return err
		}
		return a.reportPaper(use, "已换开到", job)
	})
}

func cmdPaperReprint(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("paper reprint", "--code 票据代码 --no 票据号码 | --busno 业务流水号  --paper-no 打印机中的纸质号码 --reason 原因")
	ref := billRefFlags(fs, "电子票据")
	paperNo := fs.String("paper-no", "", "打印机中纸张上的号码（须与系统当前号码一致）")
	reason := fs.String("reason", "", "作废原因，例如 卡纸")
	operator := fs.String("operator", currentUser(), "经办人")
	pp := paperPrintFlags(fs)
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("paper-no", *paperNo, "reason", *reason); err != nil {
		return err
	}
	pn, err := paperNumber(*paperNo, "paper-no")
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		code, n, err := ref.resolve(ctx, s)
		if err != nil {
			return err
		}
		use, job, err := stationprint.Reprint(ctx, s, code, n, pn, *reason, *operator, func(ctx context.Context) (string, error) {
			return a.printPaper(ctx, s, pp, code, n, "")
		})
		if err != nil {
			return err
		}
		return a.reportPaper(use, "已作废原纸质票据，并重新打印到", job)
	})
}

func cmdPaperVoid(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("paper void", "--paper-code 纸质票据代码 --paper-no 纸质号码 --reason 原因")
	paperCode := fs.String("paper-code", "", "纸质票据代码")
	paperNo := fs.String("paper-no", "", "要作废的纸质票据号码")
	reason := fs.String("reason", "", "作废原因")
	operator := fs.String("operator", currentUser(), "经办人")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("paper-code", *paperCode, "paper-no", *paperNo, "reason", *reason); err != nil {
		return err
	}
	pn, err := paperNumber(*paperNo, "paper-no")
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		if err := s.VoidPaper(ctx, *paperCode, pn, *reason, *operator); err != nil {
			return err
		}
		return a.Report(map[string]any{"paperCode": *paperCode, "paperNo": bill.FormatBillNo(pn), "status": localstore.PaperVoided},
			"已作废纸质票据 %s %s；对应电子票据仍然有效，可重新换开。\n", *paperCode, bill.FormatBillNo(pn))
	})
}

func cmdPaperBlankVoid(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("paper blank-void", "--paper-code 纸质票据代码 --from 起始号码 --to 终止号码 --reason 原因")
	paperCode := fs.String("paper-code", "", "纸质票据代码")
	from := fs.String("from", "", "起始号码")
	to := fs.String("to", "", "终止号码")
	reason := fs.String("reason", "", "作废原因，例如 打印机走纸")
	operator := fs.String("operator", currentUser(), "经办人")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("paper-code", *paperCode, "from", *from, "to", *to, "reason", *reason); err != nil {
		return err
	}
	start, err := paperNumber(*from, "from")
	if err != nil {
		return err
	}
	end, err := paperNumber(*to, "to")
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		n, err := s.BlankVoid(ctx, *paperCode, start, end, *reason, *operator)
		if err != nil {
			return err
		}
		return a.Report(map[string]any{"paperCode": *paperCode, "from": bill.FormatBillNo(start), "to": bill.FormatBillNo(end), "count": n},
			"已空白作废纸质票据 %s %s–%s，共 %d 张。\n", *paperCode, bill.FormatBillNo(start), bill.FormatBillNo(end), n)
	})
}

func cmdPaperShow(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("paper show", "--paper-code 纸质票据代码 --paper-no 纸质号码")
	paperCode := fs.String("paper-code", "", "纸质票据代码")
	paperNo := fs.String("paper-no", "", "纸质票据号码")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("paper-code", *paperCode, "paper-no", *paperNo); err != nil {
		return err
	}
	pn, err := paperNumber(*paperNo, "paper-no")
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		u, err := s.PaperUsage(ctx, *paperCode, pn)
		if err != nil {
			return err
		}
		status := map[string]string{localstore.PaperPrinted: "已打印（有效）", localstore.PaperVoided: "已作废", localstore.PaperBlankVoid: "空白作废"}[u.Status]
		billText := ""
		if u.BillCode != "" {
			billText = fmt.Sprintf("，电子票据 %s %s", u.BillCode, bill.FormatBillNo(u.BillNo))
		}
		return a.Report(map[string]any{"paperCode": u.Code, "paperNo": bill.FormatBillNo(u.No), "status": u.Status,
			"billCode": u.BillCode, "billNo": bill.FormatBillNo(u.BillNo), "reason": u.Reason, "operator": u.Operator, "usedAt": beijing(u.UsedAt)},
			"纸质票据 %s %s：%s%s；原因：%s；经办人：%s；时间：%s\n", u.Code, bill.FormatBillNo(u.No), status, billText, u.Reason, u.Operator, beijing(u.UsedAt))
	})
}

func (a *app) reportPaper(u *localstore.PaperUse, what, job string) error {
	printed := "（未打印，仅登记）"
	if job != "" {
		printed = "，打印任务 " + job
	}
	return a.Report(map[string]any{"paperCode": u.Code, "paperNo": bill.FormatBillNo(u.No), "billCode": u.BillCode, "billNo": bill.FormatBillNo(u.BillNo), "job": job},
		"%s纸质票据 %s %s（电子票据 %s %s）%s。\n", what, u.Code, bill.FormatBillNo(u.No), u.BillCode, bill.FormatBillNo(u.BillNo), printed)
}

// printPaper prints the e-bill on its paper template, before the paper
// number is recorded.
func (a *app) printPaper(ctx context.Context, s *localstore.Store, pp paperPrint, code string, n int64, paperCode string) (string, error) {
	prepared, err := pp.prepare(ctx, s, code, n, paperCode)
	if err != nil {
		return "", err
	}
	return prepared.print(ctx)
}

// withStore opens the station database for fn and closes it after.
func (a *app) withStore(ctx context.Context, fn func(*localstore.Store) error) error {
	s, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}
