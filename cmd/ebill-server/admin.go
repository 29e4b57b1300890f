package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/cli"
	"github.com/ebill/ebill/cmd/internal/textout"
	"github.com/ebill/ebill/server"
)

func beijing(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(bill.Beijing).Format("2006-01-02 15:04:05")
}

// sub dispatches "<command> <sub> …".
func sub(a *app, name string, args []string, subs map[string]func([]string) error) error {
	if len(args) > 0 {
		if fn, ok := subs[args[0]]; ok {
			return fn(args[1:])
		}
	}
	var names []string
	for n := range subs {
		names = append(names, n)
	}
	fmt.Fprintf(a.Stderr, "用法：ebill-server %s %s … （ebill-server %s <子命令> -h 查看参数）\n", name, strings.Join(names, "|"), name)
	return errUsage
}

func cmdUnit(ctx context.Context, a *app, args []string) error {
	return sub(a, "unit", args, map[string]func([]string) error{
		"set": func(args []string) error {
			fs := a.flags("unit set", "--name 单位名称 [--credit-code 统一社会信用代码] [--seal 票据专用章.png | --no-seal]")
			var u server.Unit
			fs.StringVar(&u.Name, "name", "", "开票单位名称")
			fs.StringVar(&u.CreditCode, "credit-code", "", "统一社会信用代码")
			seal := fs.String("seal", "", "本院登记的票据专用章图片（PNG，透明底，不超过 256 KB），印在票面“收款单位（章）”处；不设置则只印文字")
			fs.BoolVar(&u.ClearSeal, "no-seal", false, "不再在票面上印票据专用章")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			if *seal != "" {
				data, err := os.ReadFile(*seal)
				if err != nil {
					return bill.Errorf(bill.EInvalid, "无法读取票据专用章图片 %s：%v", *seal, err)
				}
				u.Seal = data
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.SetUnit(ctx, u); err != nil {
					return err
				}
				return a.Report(map[string]any{"name": u.Name, "creditCode": u.CreditCode, "sealBytes": len(u.Seal), "clearSeal": u.ClearSeal},
					"开票单位：%s %s\n", u.Name, u.CreditCode)
			})
		},
	})
}

func cmdKind(ctx context.Context, a *app, args []string) error {
	return sub(a, "kind", args, map[string]func([]string) error{
		"set": func(args []string) error {
			fs := a.flags("kind set", "--kind outpatient|inpatient|registration|exam|deposit --code 票据代码")
			kind := fs.String("kind", "", "票据种类")
			code := fs.String("code", "", "8位票据代码")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			k, err := bill.ParseAnyKind(*kind)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.SetBillKind(ctx, k, *code); err != nil {
					return err
				}
				return a.Report(map[string]string{"kind": string(k), "billCode": *code}, "%s票据使用票据代码 %s\n", k.Name(), *code)
			})
		},
		"list": func(args []string) error {
			return a.withStore(ctx, func(s *server.Store) error {
				kinds, err := s.BillKinds(ctx)
				if err != nil {
					return err
				}
				if a.JSON {
					a.PrintJSON(kinds)
					return nil
				}
				for _, k := range bill.AllKinds {
					if c, ok := kinds[k]; ok {
						fmt.Fprintf(a.Stdout, "%s  %s\n", k.Name(), c)
					}
				}
				return nil
			})
		},
	})
}

func cmdStock(ctx context.Context, a *app, args []string) error {
	return sub(a, "stock", args, map[string]func([]string) error{
		"receive": func(args []string) error {
			fs := a.flags("stock receive", "--kind einvoice|paper --code 代码 --from 起始号码 --to 终止号码 [--certificate 领用证号] [--note 备注]")
			kind := fs.String("kind", server.StockEInvoice, "einvoice 电子票据号码 | paper 纸质票据")
			code := fs.String("code", "", "票据代码")
			from := cli.BillNo(fs, "from", "起始号码（如 0000000001）")
			to := cli.BillNo(fs, "to", "终止号码（如 0001000000）")
			cert := fs.String("certificate", "", "领用证号")
			note := fs.String("note", "", "备注")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				d, err := s.DraftStock(ctx, server.StockDoc{Kind: *kind, Code: *code, Start: *from, End: *to, Certificate: *cert, Note: *note})
				if err != nil {
					return err
				}
				if err := s.SubmitStock(ctx, d.ID); err != nil {
					return err
				}
				d.State = server.DocSubmitted
				return a.Report(stockDocJSON(d), "已制单并送审：%s入库单 %s，%s，共 %d 个号码。审核通过后入库（ebill-server stock approve %s）。\n",
					server.StockKindName(d.Kind), d.ID, d.Segment(), d.Count(), d.ID)
			})
		},
		"approve": func(args []string) error { return decideStock(ctx, a, args, true) },
		"return":  func(args []string) error { return decideStock(ctx, a, args, false) },
		"unapprove": func(args []string) error {
			fs := a.flags("stock unapprove", "入库单号 --opinion 反审核原因")
			opinion := fs.String("opinion", "", "反审核原因（必填）")
			id, err := a.parse(fs, args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				d, err := s.UnapproveStock(ctx, id, *opinion)
				if err != nil {
					return err
				}
				return a.Report(stockDocJSON(d), "已反审核：%s %s 已退出库存，入库单回到已送审。\n", server.StockKindName(d.Kind), d.Segment())
			})
		},
		"docs": func(args []string) error {
			fs := a.flags("stock docs", "[--state draft|submitted|approved|returned]")
			state := fs.String("state", "", "只列出此状态的入库单")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			var states []string
			if *state != "" {
				states = []string{*state}
			}
			return a.withStore(ctx, func(s *server.Store) error {
				docs, err := s.StockDocs(ctx, states...)
				if err != nil {
					return err
				}
				if a.JSON {
					out := []map[string]any{}
					for i := range docs {
						out = append(out, stockDocJSON(&docs[i]))
					}
					a.PrintJSON(out)
					return nil
				}
				w := textout.NewTable(a.Stdout)
				fmt.Fprintln(w, "入库单\t种类\t号段\t张数\t领用证\t状态\t制单\t审核\t意见")
				for _, d := range docs {
					fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.KindName(), d.Segment(), d.Count(), d.Certificate,
						d.StateName(), d.Maker, d.Checker, d.Opinion)
				}
				return w.Flush()
			})
		},
		"list": func(args []string) error {
			return a.withStore(ctx, func(s *server.Store) error {
				stock, err := s.Stock(ctx)
				if err != nil {
					return err
				}
				if a.JSON {
					a.PrintJSON(nonNil(stock))
					return nil
				}
				w := textout.NewTable(a.Stdout)
				fmt.Fprintln(w, "种类\t代码\t入库\t已分配\t剩余")
				for _, c := range stock {
					fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\n", server.StockKindName(c.Kind), c.Code, c.Received, c.Allocated, c.Remaining)
				}
				return w.Flush()
			})
		},
	})
}

func cmdPoint(ctx context.Context, a *app, args []string) error {
	return sub(a, "point", args, map[string]func([]string) error{
		"add": func(args []string) error {
			fs := a.flags("point add", "编码 --name 名称 [--kind station|server]")
			name := fs.String("name", "", "开票点名称")
			kind := fs.String("kind", server.PointStation, "station 收费电脑 | server 服务器开票")
			code, err := a.parse(fs, args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.AddPoint(ctx, code, *name, *kind); err != nil {
					return err
				}
				return a.Report(map[string]string{"code": code, "name": *name, "kind": *kind}, "已添加开票点 %s %s（%s）\n", code, *name, pointKindName(*kind))
			})
		},
		"set": func(args []string) error {
			fs := a.flags("point set", "编码 [--segment-size N] [--refill N] [--alert N] [--max-held N] [--max-hours H] [--max-count N] [--max-amount 元] [--max-single 元]")
			size := cli.Int64(fs, "segment-size", 0, 0, "每次分配的号码个数")
			refill := cli.Int64(fs, "refill", -1, 0, "剩余号码低于此数时自动申请")
			alert := cli.Int64(fs, "alert", -1, 0, "库存预警阈值")
			maxHeld := cli.Int64(fs, "max-held", -1, 0, "本开票点每个票据代码最多持有的未用号码数（0 为号段大小的 3 倍）")
			hours := cli.Int(fs, "max-hours", -1, 0, "离线时长上限（小时）")
			count := cli.Int(fs, "max-count", -1, 0, "未上传张数上限")
			amount := fs.String("max-amount", "", "未上传金额上限（元）")
			single := fs.String("max-single", "", "离线单张金额上限（元）")
			payChannel := fs.String("default-pay-channel", "", "收费员开票时默认的支付方式编码（不设置时为 02 现金）；- 表示清除")
			checker := fs.String("checker", "", "票面上的复核人姓名；- 表示清除")
			code, err := a.parse(fs, args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				p, err := s.Point(ctx, code)
				if err != nil {
					return err
				}
				st := p.Settings
				if *size > 0 {
					st.SegmentSize = *size
				}
				if *refill >= 0 {
					st.RefillThreshold = *refill
				}
				if *alert >= 0 {
					st.StockAlert = *alert
				}
				if *maxHeld >= 0 {
					st.MaxHeld = *maxHeld
				}
				if *hours >= 0 {
					st.Limits.MaxHours = *hours
				}
				if *count >= 0 {
					st.Limits.MaxCount = *count
				}
				for _, m := range []struct {
					text string
					dst  *bill.Money
				}{{*amount, &st.Limits.MaxAmount}, {*single, &st.Limits.MaxSingle}} {
					if m.text != "" {
						if *m.dst, err = bill.ParseMoney(m.text); err != nil {
							return err
						}
					}
				}
				switch *payChannel {
				case "":
				case "-":
					st.DefaultPayChannel = ""
				default:
					if err := s.CheckPayChannel(ctx, *payChannel); err != nil {
						return err
					}
					st.DefaultPayChannel = *payChannel
				}
				switch *checker {
				case "":
				case "-":
					st.Checker = ""
				default:
					st.Checker = strings.TrimSpace(*checker)
				}
				if err := s.SetPointSettings(ctx, code, st); err != nil {
					return err
				}
				pay, check := st.DefaultPayChannel, st.Checker
				if pay == "" {
					pay = "02（默认）"
				}
				if check == "" {
					check = "（无）"
				}
				return a.Report(st, "开票点 %s 设置已更新：号段 %d，补号阈值 %d，预警 %d，离线 %d 小时 / %d 张 / %s 元，单张 %s 元，默认支付方式 %s，复核人 %s\n",
					code, st.SegmentSize, st.RefillThreshold, st.StockAlert, st.Limits.MaxHours, st.Limits.MaxCount, st.Limits.MaxAmount, st.Limits.MaxSingle, pay, check)
			})
		},
		"list": func(args []string) error {
			return a.withStore(ctx, func(s *server.Store) error {
				points, err := s.Points(ctx)
				if err != nil {
					return err
				}
				if a.JSON {
					a.PrintJSON(nonNil(points))
					return nil
				}
				w := textout.NewTable(a.Stdout)
				fmt.Fprintln(w, "编码\t名称\t类型\t注册状态\t已上传票据")
				for _, p := range points {
					state := "未注册"
					switch {
					case p.Active():
						state = "已注册 " + beijing(p.EnrolledAt)
					case !p.RevokedAt.IsZero():
						state = "已撤销 " + beijing(p.RevokedAt)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", p.Code, p.Name, pointKindName(p.Kind), state, p.ChainSeq)
				}
				return w.Flush()
			})
		},
		"enroll-code": func(args []string) error {
			fs := a.flags("point enroll-code", "编码")
			code, err := a.parse(fs, args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				c, expires, err := s.EnrollCode(ctx, code)
				if err != nil {
					return err
				}
				return a.Report(map[string]string{"point": code, "code": c, "expiresAt": beijing(expires)},
					"开票点 %s 的注册码：%s（一次有效，%s 前使用）\n在收费电脑上执行：ebill enroll --server <服务器地址> --code %s --fingerprint <证书指纹>\n",
					code, c, beijing(expires), c)
			})
		},
		"revoke": func(args []string) error {
			fs := a.flags("point revoke", "编码")
			code, err := a.parse(fs, args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.Revoke(ctx, code); err != nil {
					return err
				}
				return a.Report(map[string]string{"point": code, "status": "revoked"}, "已撤销开票点 %s 的收费电脑；可重新生成注册码注册新电脑。\n", code)
			})
		},
		"disable": func(args []string) error { return setPointDisabled(ctx, a, args, true) },
		"enable":  func(args []string) error { return setPointDisabled(ctx, a, args, false) },
	})
}

// setPointDisabled stops or restarts a billing point.
func setPointDisabled(ctx context.Context, a *app, args []string, disabled bool) error {
	name := map[bool]string{true: "point disable", false: "point enable"}[disabled]
	code, err := a.parse(a.flags(name, "编码"), args, true)
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(s *server.Store) error {
		if err := s.SetPointDisabled(ctx, code, disabled); err != nil {
			return err
		}
		if disabled {
			return a.Report(map[string]any{"point": code, "disabled": true}, "已停用开票点 %s：不再分配新号码；已开具的票据仍可上传。\n", code)
		}
		return a.Report(map[string]any{"point": code, "disabled": false}, "已启用开票点 %s。\n", code)
	})
}

func cmdSegment(ctx context.Context, a *app, args []string) error {
	return sub(a, "segment", args, map[string]func([]string) error{
		"list": func(args []string) error {
			fs := a.flags("segment list", "[--point 开票点]")
			point := fs.String("point", "", "开票点编码")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				segs, err := s.Segments(ctx, *point)
				if err != nil {
					return err
				}
				if a.JSON {
					a.PrintJSON(nonNil(segs))
					return nil
				}
				w := textout.NewTable(a.Stdout)
				fmt.Fprintln(w, "开票点\t票据代码\t起始号码\t终止号码\t已上传\t分配时间")
				for _, sg := range segs {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", sg.Point, sg.BillCode, bill.FormatBillNo(sg.Start),
						bill.FormatBillNo(sg.End), sg.Used, beijing(sg.AllocatedAt))
				}
				return w.Flush()
			})
		},
	})
}

func cmdBill(ctx context.Context, a *app, args []string) error {
	return sub(a, "bill", args, map[string]func([]string) error{
		"list": func(args []string) error {
			fs := a.flags("bill list", "[--point P] [--from 2026-11-01] [--to 2026-11-30] [--limit 100]")
			var f server.LedgerFilter
			fs.StringVar(&f.Point, "point", "", "开票点编码")
			from := fs.String("from", "", "开票日期起（含），yyyy-MM-dd")
			to := fs.String("to", "", "开票日期止（含），yyyy-MM-dd")
			limit := cli.Int(fs, "limit", 100, 1, "最多条数（不超过 1000）")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			f.Limit = *limit
			var err error
			if f.From, err = parseDay(*from); err != nil {
				return err
			}
			if f.To, err = parseDay(*to); err != nil {
				return err
			}
			if !f.To.IsZero() {
				f.To = f.To.AddDate(0, 0, 1)
			}
			return a.withStore(ctx, func(s *server.Store) error {
				bills, err := s.LedgerBills(ctx, f)
				if err != nil {
					return err
				}
				if a.JSON {
					a.PrintJSON(nonNil(bills))
					return nil
				}
				w := textout.NewTable(a.Stdout)
				fmt.Fprintln(w, "开票时间\t开票点\t票据代码\t票据号码\t校验码\t种类\t交款人\t金额\t冲销原票据")
				for _, b := range bills {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", beijing(b.IssuedAt), b.Point, b.BillCode, b.BillNo,
						b.CheckCode, b.Kind.Name(), b.Payer, b.Total, b.RedOfBill)
				}
				return w.Flush()
			})
		},
		"show": func(args []string) error {
			fs := a.flags("bill show", "--code 票据代码 --no 票据号码")
			code := fs.String("code", "", "票据代码")
			no := fs.String("no", "", "票据号码")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			n, err := bill.ParseBillNo(*no)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				b, err := s.LedgerBill(ctx, *code, n)
				if err != nil {
					return err
				}
				if a.JSON {
					a.PrintJSON(b)
					return nil
				}
				set := b.Bill.Settlement
				fmt.Fprintf(a.Stdout, "%s %s  校验码 %s  %s票据  开票点 %s  链序号 %d\n开票时间 %s  上传时间 %s\n交款人 %s  证件号 %s  金额 %s 元（%s）\n业务流水号 %s  收款人 %s\n",
					b.BillCode, b.BillNo, b.CheckCode, b.Kind.Name(), b.Point, b.Seq, beijing(b.IssuedAt), beijing(b.ReceivedAt),
					set.Payer, bill.MaskID(string(set.IDCardNo)), set.TotalAmt, set.TotalAmt.Capitals(), set.BusNo, set.Payee)
				if b.Bill.Red != nil {
					fmt.Fprintf(a.Stdout, "红字票据：冲销 %s %s，原因：%s\n", b.Bill.Red.OrigBillCode, b.Bill.Red.OrigBillNo, b.Bill.Red.Reason)
				}
				return nil
			})
		},
	})
}

func cmdConflict(ctx context.Context, a *app, args []string) error {
	return sub(a, "conflict", args, map[string]func([]string) error{
		"list": func(args []string) error {
			fs := a.flags("conflict list", "[--point P]")
			point := fs.String("point", "", "开票点编码")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				cs, err := s.Conflicts(ctx, *point)
				if err != nil {
					return err
				}
				if a.JSON {
					a.PrintJSON(nonNil(cs))
					return nil
				}
				for _, c := range cs {
					fmt.Fprintf(a.Stdout, "%s  第 %d 张  %s %s  %s\n", c.Point, c.Seq, c.BillCode, bill.FormatBillNo(c.BillNo), c.Reason)
				}
				if len(cs) == 0 {
					fmt.Fprintln(a.Stdout, "没有冲突记录。")
				}
				return nil
			})
		},
	})
}

func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, bill.Beijing)
	if err != nil {
		return t, bill.Errorf(bill.EInvalid, "日期 %q 格式不正确，应为 yyyy-MM-dd", s)
	}
	return t, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// decideStock approves or returns a submitted intake document.
func decideStock(ctx context.Context, a *app, args []string, approve bool) error {
	name := map[bool]string{true: "stock approve", false: "stock return"}[approve]
	fs := a.flags(name, "入库单号 [--opinion 审核意见]")
	opinion := fs.String("opinion", "", "审核意见（退回时必填）")
	id, err := a.parse(fs, args, true)
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(s *server.Store) error {
		d, err := s.DecideStock(ctx, id, approve, *opinion)
		if err != nil {
			return err
		}
		if approve {
			return a.Report(stockDocJSON(d), "已审核通过，%s %s 已入库，共 %d 个号码。\n", server.StockKindName(d.Kind), d.Segment(), d.Count())
		}
		return a.Report(stockDocJSON(d), "已退回入库单 %s 给制单人 %s。\n", d.ID, d.Maker)
	})
}

func stockDocJSON(d *server.StockDoc) map[string]any {
	return map[string]any{"id": d.ID, "kind": d.Kind, "code": d.Code, "from": d.Start, "to": d.End, "count": d.Count(),
		"certificate": d.Certificate, "state": d.State, "maker": d.Maker, "checker": d.Checker, "opinion": d.Opinion}
}

func pointKindName(kind string) string {
	return map[string]string{server.PointStation: "收费电脑", server.PointServer: "服务器开票"}[kind]
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func cmdPaper(ctx context.Context, a *app, args []string) error {
	return sub(a, "paper", args, map[string]func([]string) error{
		"assign":     func(args []string) error { return distributePaper(ctx, a, "paper assign", args) },
		"distribute": func(args []string) error { return distributePaper(ctx, a, "paper distribute", args) },
		"return": func(args []string) error {
			fs := a.flags("paper return", "分发记录号 [--from 起始号码]")
			from := cli.Int64(fs, "from", 0, 0, "从此号码起退回（默认从第一个未用号码起）")
			id, err := a.parse(fs, args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				r, err := s.ReturnPaper(ctx, id, *from)
				if err != nil {
					return err
				}
				return a.Report(r, "开票点 %s 已退回纸质票据 %s %s–%s。\n", r.Point, r.Code, bill.FormatBillNo(r.Start), bill.FormatBillNo(r.End))
			})
		},
		"list": func(args []string) error {
			fs := a.flags("paper list", "--point 开票点")
			point := fs.String("point", "", "开票点")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			if err := cli.Required("point", *point); err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				ranges, err := s.PaperRanges(ctx, *point)
				if err != nil {
					return err
				}
				if a.JSON {
					a.PrintJSON(ranges)
					return nil
				}
				for _, r := range ranges {
					cur := "已用完"
					if r.Current > 0 {
						cur = "当前号码 " + bill.FormatBillNo(r.Current)
					}
					a.Printf("%s  %s–%s  %s\n", r.Code, bill.FormatBillNo(r.Start), bill.FormatBillNo(r.End), cur)
				}
				return nil
			})
		},
	})
}

// distributePaper gives paper from the central stock to a billing point.
func distributePaper(ctx context.Context, a *app, name string, args []string) error {
	fs := a.flags(name, "--point 开票点 --code 纸质票据代码 (--from 起始号码 --to 终止号码 | --count 张数)")
	point := fs.String("point", "", "开票点")
	code := fs.String("code", "", "纸质票据代码")
	from := cli.BillNo(fs, "from", "起始号码（交给窗口的那一段）")
	to := cli.BillNo(fs, "to", "终止号码")
	count := cli.Int64(fs, "count", 0, 0, "张数（不写号码时，从未分发的第一个号码起）")
	if _, err := a.parse(fs, args, false); err != nil {
		return err
	}
	if err := cli.Required("point", *point, "code", *code); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *server.Store) error {
		r, err := s.DistributePaper(ctx, *point, *code, *from, *to, *count)
		if err != nil {
			return err
		}
		return a.Report(r, "已把纸质票据 %s %s–%s 分发给开票点 %s。\n", r.Code, bill.FormatBillNo(r.Start), bill.FormatBillNo(r.End), r.Point)
	})
}

func cmdReport(ctx context.Context, a *app, args []string) error {
	return sub(a, "report", args, map[string]func([]string) error{
		"health": func(args []string) error {
			fs := a.flags("report health", "--date yyyy-MM-dd [--out 文件] [--push 地址]")
			date := fs.String("date", time.Now().In(bill.Beijing).AddDate(0, 0, -1).Format("2006-01-02"), "报表日期（默认昨天）")
			out := fs.String("out", "", "写入文件，供手工上报")
			push := fs.String("push", "", "报送到此地址（HTTP POST JSON），成功后记为已报送")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			day, err := time.ParseInLocation("2006-01-02", *date, bill.Beijing)
			if err != nil {
				return bill.FieldErrorf("date", "日期应为 yyyy-MM-dd")
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if *push != "" {
					sent, err := s.PushHealthReport(ctx, &http.Client{Timeout: 30 * time.Second}, *push, day)
					if err != nil {
						return err
					}
					if !sent {
						return a.Report(map[string]any{"date": *date, "sent": false}, "%s 的报表此前已报送，未重复报送。\n", *date)
					}
					return a.Report(map[string]any{"date": *date, "sent": true}, "%s 的报表已报送到 %s。\n", *date, *push)
				}
				rep, err := s.BuildHealthReport(ctx, day)
				if err != nil {
					return err
				}
				data, _ := json.MarshalIndent(rep, "", "  ")
				if *out == "" {
					a.Stdout.Write(append(data, '\n'))
					return nil
				}
				if err := os.WriteFile(*out, append(data, '\n'), 0o644); err != nil {
					return bill.Errorf(bill.EUnavailable, "无法写入 %s：%v", *out, err)
				}
				return a.Report(map[string]any{"date": *date, "file": *out}, "已生成 %s 的卫健委报表：%s（%d 行）。\n", *date, *out, len(rep.Rows))
			})
		},
	})
}
