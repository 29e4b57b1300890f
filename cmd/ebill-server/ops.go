package main

// Operations: verifying the ledger, restoring a backup (issue 20).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/cli"
	"github.com/ebill/ebill/cmd/internal/textout"
	"github.com/ebill/ebill/internal/diag"
	"github.com/ebill/ebill/server"
)

// cmdVerify checks the whole ledger and prints the report; exit code 6
// when anything does not hold.
func cmdVerify(ctx context.Context, a *app, args []string) error {
	fs := a.flags("verify", "")
	if _, err := a.parse(fs, args, false); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *server.Store) error {
		rep, err := s.VerifyLedger(ctx)
		if err != nil {
			return err
		}
		if a.JSON {
			a.PrintJSON(rep)
		} else {
			printLedgerReport(a.Stdout, rep)
		}
		if !rep.OK() {
			return cli.Reported{Err: bill.Errorf(bill.ETampered, "校验发现 %d 处问题。", len(rep.Problems)+int(rep.More))}
		}
		return nil
	})
}

func printLedgerReport(w io.Writer, rep *server.LedgerReport) {
	fmt.Fprintf(w, "票据 %d 张（%d 条开票链），号段 %d 个，纸质票据使用记录 %d 条，审计记录 %d 条；用时 %s。\n",
		rep.Bills, rep.Chains, rep.Segments, rep.PaperUses, rep.AuditRecords, rep.Took.Round(1e7))
	if rep.Unchecked > 0 {
		fmt.Fprintf(w, "其中 %d 张票据的注册公钥未保存（早期版本注册），只核对了哈希和内容，未核对签名。\n", rep.Unchecked)
	}
	if rep.OK() {
		fmt.Fprintln(w, "校验通过：签名、哈希、开票链、号段、纸质票据和审计链均完整。")
		return
	}
	fmt.Fprintf(w, "发现 %d 处问题：\n", len(rep.Problems)+int(rep.More))
	t := textout.NewTable(w)
	for _, p := range rep.Problems {
		fmt.Fprintf(t, "  %s\t%s\n", p.Where, p.Message)
	}
	t.Flush()
	if rep.More > 0 {
		fmt.Fprintf(w, "  ……另有 %d 处未列出。\n", rep.More)
	}
}

// cmdRestore restores a backup into a data directory (SQLite) or a
// database (PostgreSQL) that holds nothing yet, verifies what it restored,
// and says what the stations will do next.
func cmdRestore(ctx context.Context, a *app, args []string) error {
	fs := a.flags("restore", "--from 备份文件 [--to 新数据目录 | --to-db postgres://…]")
	from := fs.String("from", "", "备份文件：SQLite 备份（ebill-server backup 写出）或 pg_dump -Fc 的文件")
	to := fs.String("to", "", "恢复到这个新的数据目录（SQLite；不能已有 ledger.db）；默认为 --data")
	toDB := fs.String("to-db", "", "恢复到这个空的 PostgreSQL 数据库（连接串）")
	gap := fs.Int64("gap", server.DefaultRestoreGap, "每个票据代码的票源向后跳过的号码数：越过备份之后服务器开票点可能已用的号码")
	if _, err := a.parse(fs, args, false); err != nil {
		return err
	}
	if *from == "" {
		return bill.Errorf(bill.EInvalid, "缺少参数 --from（备份文件）。")
	}
	if _, err := os.Stat(*from); err != nil {
		return bill.Errorf(bill.EInvalid, "无法读取备份文件 %s：%v", *from, err)
	}
	// The keys are not in the backup (security.md): without them the
	// restored bills' ID and phone numbers and the audit chain cannot be
	// read or checked. They must be in place first.
	keysDir := *to
	if keysDir == "" || *toDB != "" {
		keysDir = a.dataDir
	}
	for _, k := range []string{"keys/secret.key", "keys/audit.key"} {
		if _, err := os.Stat(filepath.Join(keysDir, k)); err != nil {
			return bill.Errorf(bill.EInvalid, "%s 中没有 %s。备份中不含密钥：请先把原数据目录的 keys 目录（和 tls 目录）"+
				"从密钥备份复制到 %s，再恢复。", keysDir, k, keysDir)
		}
	}
	if *toDB != "" {
		if err := server.RestorePostgres(ctx, *from, *toDB); err != nil {
			return err
		}
		a.dsn = *toDB
	} else {
		dir := *to
		if dir == "" {
			dir = a.dataDir
		}
		if err := server.RestoreSQLite(*from, dir); err != nil {
			return err
		}
		a.dataDir, a.dsn = dir, ""
	}
	actor := server.ActorOf(ctx)
	actor.System = true
	ctx = server.WithActor(ctx, actor)
	return a.withStore(ctx, func(s *server.Store) error {
		sum, err := s.MarkRestored(ctx, *from, *gap)
		if err != nil {
			return err
		}
		rep, err := s.VerifyLedger(ctx)
		if err != nil {
			return err
		}
		if a.JSON {
			a.PrintJSON(map[string]any{"verify": rep, "restore": sum})
		} else {
			printLedgerReport(a.Stdout, rep)
			fmt.Fprintln(a.Stdout, "已恢复。")
			for _, r := range sum.Retired {
				fmt.Fprintf(a.Stdout, "  服务器开票点未用完的号码不再使用：%s\n", r)
			}
			for _, r := range sum.Skipped {
				fmt.Fprintf(a.Stdout, "  跳过票源号码（备份之后可能已分配，核销时按作废处理）：%s\n", r)
			}
			fmt.Fprintf(a.Stdout, "暂停分配新号段，直到 %d 个开票点（%s）联网上报各自持有的号段；收费电脑照常开票，"+
				"并自动重新上传服务器在备份之后丢失的票据。用 ebill-server restore-status 查看进度。\n", len(sum.Points), strings.Join(sum.Points, "、"))
		}
		if !rep.OK() {
			return cli.Reported{Err: bill.Errorf(bill.ETampered, "恢复的数据校验发现 %d 处问题。", len(rep.Problems)+int(rep.More))}
		}
		return nil
	})
}

// cmdRestoreStatus shows which stations a restore waits for, and what
// each reported.
func cmdRestoreStatus(ctx context.Context, a *app, args []string) error {
	fs := a.flags("restore-status", "")
	if _, err := a.parse(fs, args, false); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *server.Store) error {
		holds, err := s.RestoreStatus(ctx)
		if err != nil {
			return err
		}
		if a.JSON {
			a.PrintJSON(nonNil(holds))
			return nil
		}
		if len(holds) == 0 {
			fmt.Fprintln(a.Stdout, "没有进行中的恢复。")
			return nil
		}
		t := textout.NewTable(a.Stdout)
		fmt.Fprintln(t, "开票点\t恢复时间\t上报\t号段")
		for _, h := range holds {
			state := "等待上报"
			switch {
			case !h.ReportedAt.IsZero():
				state = "已上报 " + beijing(h.ReportedAt)
			case h.ReleasedBy != "":
				state = "已放行（" + h.ReleasedBy + "）"
			}
			fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", h.Point, beijing(h.RestoredAt), state, heldSummary(h.Report))
		}
		return t.Flush()
	})
}

// heldSummary turns a station's report into one line: each segment, how
// far it went, learned or not.
func heldSummary(raw []byte) string {
	var lines []struct {
		BillCode string `json:"billCode"`
		Start    int64  `json:"start"`
		End      int64  `json:"end"`
		Next     int64  `json:"next"`
		Learned  bool   `json:"learned"`
		Problem  string `json:"problem"`
	}
	if json.Unmarshal(raw, &lines) != nil {
		return ""
	}
	var parts []string
	for _, l := range lines {
		p := fmt.Sprintf("%s %s–%s 用到 %s", l.BillCode, bill.FormatBillNo(l.Start), bill.FormatBillNo(l.End), bill.FormatBillNo(l.Next-1))
		switch {
		case l.Problem != "":
			p += "（" + l.Problem + "，请核查）"
		case l.Learned:
			p += "（服务器据此补记）"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "；")
}

// cmdRestoreRelease stops waiting for a station that will not report.
func cmdRestoreRelease(ctx context.Context, a *app, args []string) error {
	fs := a.flags("restore-release", "--point 开票点")
	point := fs.String("point", "", "不再等待上报的开票点（已停用，或将重新注册）")
	if _, err := a.parse(fs, args, false); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *server.Store) error {
		if err := s.ReleaseRestoreHold(ctx, *point); err != nil {
			return err
		}
		return a.Report(map[string]string{"released": *point}, "不再等待开票点 %s 上报。\n", *point)
	})
}

// cmdStationVersion shows the stations' program versions and sets the
// lowest the server accepts.
func cmdStationVersion(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 && args[0] == "set" {
		fs := a.flags("station-version set", "--min 0.19.400（空为不限）")
		minimum := fs.String("min", "", "收费电脑程序的最低版本；低于它的收费电脑同步时收到“请安装新版本”的提示")
		if _, err := a.parse(fs, args[1:], false); err != nil {
			return err
		}
		return a.withStore(ctx, func(s *server.Store) error {
			if err := s.SetMinStationVersion(ctx, *minimum); err != nil {
				return err
			}
			if *minimum == "" {
				return a.Report(map[string]string{"min": ""}, "已取消收费电脑程序的最低版本要求。\n")
			}
			return a.Report(map[string]string{"min": *minimum}, "收费电脑程序的最低版本设为 %s。\n", *minimum)
		})
	}
	if len(args) > 0 && args[0] != "list" {
		fmt.Fprintln(a.Stderr, "用法：ebill-server station-version list | set --min 版本")
		return errUsage
	}
	return a.withStore(ctx, func(s *server.Store) error {
		vs, err := s.StationVersions(ctx)
		if err != nil {
			return err
		}
		minimum, _ := s.MinStationVersion(ctx)
		if a.JSON {
			a.PrintJSON(map[string]any{"min": minimum, "stations": nonNil(vs)})
			return nil
		}
		if minimum == "" {
			minimum = "不限"
		}
		fmt.Fprintf(a.Stdout, "最低版本：%s\n", minimum)
		t := textout.NewTable(a.Stdout)
		fmt.Fprintln(t, "开票点\t名称\t程序版本\t最近同步\t")
		for _, v := range vs {
			seen, note := "从未", ""
			if !v.LastSeen.IsZero() {
				seen = beijing(v.LastSeen)
			}
			if v.Below {
				note = "低于最低版本，请升级"
			}
			fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\n", v.Point, v.Name, orUnknown(v.Version), seen, note)
		}
		return t.Flush()
	})
}

func orUnknown(s string) string {
	if s == "" {
		return "未知"
	}
	return s
}

// cmdDiag writes the server's diagnostics bundle for support: versions,
// settings (no keys, no HIS secrets, no passwords), points and their last
// reports, the last inspections, the verify result, database statistics,
// the restore state and the tail of server.log (personal numbers masked).
func cmdDiag(ctx context.Context, a *app, args []string) error {
	fs := a.flags("diag", "[--out 文件.zip] [--no-verify]")
	out := fs.String("out", "", "写入的 zip 文件；默认为当前目录下的 ebill-server-diag-日期时间.zip")
	noVerify := fs.Bool("no-verify", false, "不做全量校验（票据很多时较快）")
	if _, err := a.parse(fs, args, false); err != nil {
		return err
	}
	if *out == "" {
		*out = "ebill-server-diag-" + time.Now().In(bill.Beijing).Format("20060102-150405") + ".zip"
	}
	return a.withStore(ctx, func(s *server.Store) error {
		if err := s.Authorize(ctx, server.PermInspect); err != nil {
			return err
		}
		b, err := diag.Create(*out)
		if err != nil {
			return bill.Errorf(bill.EInvalid, "无法写入 %s（文件不能已存在）：%v", *out, err)
		}
		problems := map[string]string{}
		note := func(name string, v any, err error) {
			if err != nil {
				problems[name] = bill.ErrorMessage(err)
				return
			}
			b.JSON(name+".json", v)
		}
		b.JSON("version.json", map[string]string{"program": "ebill-server", "version": Version, "database": s.Dialect(), "dataDir": a.dataDir})
		unit, err := s.Unit(ctx)
		note("unit", unit, err)
		policy, err := s.Policy(ctx)
		note("policy", policy, err)
		points, err := s.Points(ctx)
		for _, p := range points {
			p.PublicKey = "" // not secret, but not needed either
		}
		note("points", points, err)
		reports, err := s.StationReports(ctx)
		note("station-reports", reports, err)
		versions, err := s.StationVersions(ctx)
		note("station-versions", versions, err)
		apps, err := s.HISApps(ctx) // without their keys
		note("his-apps", apps, err)
		insp, err := s.Inspections(ctx)
		if len(insp) > 5 {
			insp = insp[:5]
		}
		note("inspections", insp, err)
		holds, err := s.RestoreStatus(ctx)
		note("restore", holds, err)
		stats, err := s.DatabaseStats(ctx, a.dataDir)
		note("database", stats, err)
		if !*noVerify {
			rep, err := s.VerifyLedger(ctx)
			note("verify", rep, err)
		}
		if len(problems) > 0 {
			b.JSON("problems.json", problems)
		}
		b.LogTail("logs/server.log", filepath.Join(a.dataDir, "server.log"), 2<<20)
		if err := b.Close(); err != nil {
			return bill.Errorf(bill.EInvalid, "写入 %s 失败：%v", *out, err)
		}
		return a.Report(map[string]string{"file": *out}, "诊断包已写入 %s（不含密钥、密码和 HIS 应用密钥，日志中的证件号和手机号已打码），可发给技术支持。\n", *out)
	})
}
