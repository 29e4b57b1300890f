// Command ebill is the station's command line: initialise a billing point,
// issue and reverse bills, manage paper stock, query, verify the chain.
// Human output is Chinese; --json gives machine output for scripts.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/cli"
	"github.com/ebill/ebill/cmd/internal/winsetup"
	"github.com/ebill/ebill/localstore"
	ebsync "github.com/ebill/ebill/sync"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// app holds what every command needs: the data directory and the output.
type app struct {
	cli.Out
	dataDir string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, a *app, args []string) error
}

var commands = []command{
	{"enroll", "用注册码把本机注册为服务器上的开票点，取得号段和设置", cmdEnroll},
	{"init", "不连服务器初始化本机（--demo 生成本地演示号段，用于演示和培训）", cmdInit},
	{"issue", "按结算 JSON 文件开具电子票据", cmdIssue},
	{"red", "冲红（开具红字票据）", cmdRed},
	{"paper", "纸质票据：intake 入库 | current 当前号码 | convert 换开 | reprint 作废重打 | void 作废 | blank-void 空白作废 | show 查询", cmdPaper},
	{"print", "打印电子票据（--printer 打印机，或 --pdf 保存为文件）", cmdPrint},
	{"export", "导出电子票据 PDF（交给患者的版式文件）", cmdExport},
	{"printer", "打印机：list 列表 | default 默认 | test-page 校准页 | calibrate 校准 | templates 模板 | template 指定模板 | verify-url 查验地址", cmdPrinter},
	{"stock", "号段库存", cmdStock},
	{"list", "查询票据列表", cmdList},
	{"show", "查看一张票据", cmdShow},
	{"verify", "校验本机全部票据的签名、哈希链和号码连续性", cmdVerify},
	{"status", "开票点状态：离线额度、待上传、库存、纸质票号", cmdStatus},
	{"backup", "在不停止开票的情况下备份本机数据库", cmdBackup},
	{"restore", "--from 备份文件 [--key 数据密钥]：先校验备份，再替换本机数据库（原文件改名保留）", cmdRestore},
	{"server", "set --url 地址 [--fingerprint 指纹]：服务器地址变更后修改本机记录的地址", cmdServer},
	{"sync", "once 同步一次 | run 前台运行同步服务 | now 让同步服务立即同步 | install/uninstall/start/stop/status 系统服务", cmdSync},
	{"diag", "[--out 文件.zip]：生成诊断包（版本、设置、状态、校验结果、数据库统计、近期日志），供技术支持", cmdDiag},
	{"version", "显示版本", cmdVersion},
	{"install-finish", "安装程序调用：设置数据目录权限和同步服务的恢复操作，给出服务器地址和注册码时注册本机", cmdInstallFinish},
}

// run is the whole program: a test can call it with its own arguments,
// streams and environment.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	ebsync.ProgramVersion = Version
	a := &app{Out: cli.Out{Prog: "ebill", Stdout: stdout, Stderr: stderr}}
	fs := flag.NewFlagSet("ebill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&a.dataDir, "data", getenv("EBILL_DATA"), "数据目录（默认取环境变量 EBILL_DATA）")
	fs.BoolVar(&a.JSON, "json", false, "以 JSON 输出，供脚本使用")
	verbose := fs.Bool("v", false, "输出调试日志")
	fs.Usage = func() { usage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	a.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if a.dataDir == "" {
		a.dataDir = winsetup.DataDir(getenv)
	}
	if fs.NArg() == 0 {
		usage(stderr, fs)
		return exitUsage
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	for _, c := range commands {
		if c.name == name {
			return a.Finish(c.run(ctx, a, rest))
		}
	}
	fmt.Fprintf(stderr, "未知命令 %q。\n\n", name)
	usage(stderr, fs)
	return exitUsage
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "用法：ebill [--data 目录] [--json] <命令> [参数]")
	fmt.Fprintln(w, "\n命令：")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n全局参数：")
	fs.PrintDefaults()
	fmt.Fprintln(w, "\n每个命令的参数：ebill <命令> -h")
}

// Exit codes (shared with ebill-server).
const (
	exitOK       = cli.ExitOK
	exitUsage    = cli.ExitUsage
	exitInvalid  = cli.ExitInvalid
	exitConflict = cli.ExitConflict
	exitBlocked  = cli.ExitBlocked
	exitTampered = cli.ExitTampered
)

var errUsage = cli.ErrUsage

type reported = cli.Reported

// open opens the station database of the data directory, which must
// exist: only init creates one, so a mistyped --data does not leave an
// empty station behind.
func (a *app) open(ctx context.Context) (*localstore.Store, error) {
	if _, err := os.Stat(filepath.Join(a.dataDir, localstore.FileName)); err != nil {
		return nil, bill.Errorf(bill.ENotFound, "数据目录 %s 中没有开票点数据；请核对 --data 参数，或先执行 ebill init。", a.dataDir)
	}
	return a.create(ctx)
}

// create opens the station database, creating it if needed.
func (a *app) create(ctx context.Context) (*localstore.Store, error) {
	return localstore.Open(ctx, a.dataDir, localstore.WithLogger(a.Log))
}

// newFlags makes a command's flag set; its errors go to stderr in Chinese.
func (a *app) newFlags(name, usageLine string) *flag.FlagSet { return a.Flags(name, usageLine) }

// parse parses a command's flags; stray arguments are a usage error.
func (a *app) parse(fs *flag.FlagSet, args []string) error {
	_, err := a.Parse(fs, args, false)
	return err
}

// required reports missing required flags as one EInvalid error.
var required = cli.Required
