// Command ebill-desk is the cashier's and exam nurse's desktop: issue,
// reverse, print, paper bills, queries, stock and the daily closing, from
// the station's local store, online or not.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/ebill/ebill/assets"
	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/cli"
	"github.com/ebill/ebill/cmd/internal/winsetup"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing"
	ebsync "github.com/ebill/ebill/sync"
	"github.com/ebill/ebill/ui"
)

// Version is set at build time.
var Version = "dev"

func main() {
	dataDir := flag.String("data", os.Getenv("EBILL_DATA"), "数据目录（默认取环境变量 EBILL_DATA）")
	runSync := flag.Bool("sync", false, "在本程序内运行同步（单机部署或演示；正式部署请安装同步服务 ebill sync install）")
	verbose := flag.Bool("v", false, "输出调试日志")
	flag.Parse()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if *dataDir == "" {
		*dataDir = winsetup.DataDir(os.Getenv)
	}
	// Built -H windowsgui, the desk has no console: what it and Fyne log
	// goes to desk.log in the data folder too, and a fatal error is also
	// shown in a message box. It never fails silently.
	logOut := io.Writer(os.Stderr)
	if f := openDeskLog(*dataDir); f != nil {
		defer f.Close()
		logOut = io.MultiWriter(os.Stderr, f)
	}
	stdlog.SetOutput(logOut) // Fyne's own errors (no OpenGL…)
	log = slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))
	defer func() {
		if r := recover(); r != nil {
			err := panicError(r, filepath.Join(*dataDir, "desk.log"))
			if bill.ErrorCode(err) == bill.EUnavailable {
				log.Error("ebill-desk cannot open a window", "panic", r) // the machine's, not a bug: no stack
			} else {
				log.Error("ebill-desk panicked", "panic", r, "stack", string(debug.Stack()))
			}
			fatal(log, err)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dataDir, *runSync, log); err != nil {
		fatal(log, err)
	}
}

// panicError is what the person at the PC is told of a panic. The
// graphics library panics when no window can open — a display that is not
// there, a remote session or virtual machine without OpenGL — and that
// says what to check; anything else is an internal error.
func panicError(r any, logFile string) error {
	what := fmt.Sprint(r)
	for _, sign := range []string{"GLFW", "OpenGL", "WGL", "X11", "display"} {
		if strings.Contains(what, sign) {
			return bill.Errorf(bill.EUnavailable, "无法打开程序窗口：图形显示或显卡驱动不可用（%s）。请在本机图形桌面中运行，"+
				"确认显卡驱动已安装并支持 OpenGL 2.1 以上；远程桌面或虚拟机中请开启显卡加速。详细信息已写入 %s。", what, logFile)
		}
	}
	return fmt.Errorf("程序内部错误（%v）。详细信息已写入 %s，请联系信息科。", r, logFile)
}

// fatal reports an error the window cannot show and ends the program.
func fatal(log *slog.Logger, err error) {
	msg := bill.ErrorMessage(err)
	log.Error("ebill-desk cannot run", "err", err)
	winsetup.MessageBox("医疗电子票据", msg)
	code := cli.ExitCode(bill.ErrorCode(err))
	if code == cli.ExitOK {
		code = cli.ExitInternal
	}
	os.Exit(code)
}

// openDeskLog opens desk.log in the data folder (rotated at 5 MB), or
// returns nil when the folder cannot be written.
func openDeskLog(dataDir string) io.WriteCloser {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil
	}
	return &lumberjack.Logger{Filename: filepath.Join(dataDir, "desk.log"), MaxSize: 5, MaxBackups: 3}
}

// noDisplay says why a window cannot open on a system without one.
func noDisplay(getenv func(string) string) error {
	if runtime.GOOS != "linux" || getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" {
		return nil
	}
	return bill.Errorf(bill.EInvalid, "没有图形显示（未设置 DISPLAY 或 WAYLAND_DISPLAY），收费桌面程序无法打开窗口。"+
		"请在图形桌面中运行；在服务器或远程命令行上请使用命令行程序 ebill。")
}

func run(ctx context.Context, dataDir string, runSync bool, log *slog.Logger) error {
	ebsync.ProgramVersion = Version
	started := time.Now()
	if err := noDisplay(os.Getenv); err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	store, err := localstore.Open(ctx, dataDir, localstore.WithLogger(log))
	if err != nil {
		return err
	}
	defer store.Close()
	font, err := printing.DefaultFont()
	if err != nil {
		return err
	}
	env := &ui.Env{Store: store, Font: font, Bridge: ui.NewBridge(ctx), Log: log, DataDir: dataDir}
	if c, err := ebsync.ClientFor(ctx, store); err == nil {
		env.Client = c
	}
	if runSync {
		go runSyncLoop(ctx, store, log)
	}
	ui.UseChinese() // Fyne's own words (file dialogs) in Chinese whatever the PC's language
	a := app.NewWithID("cn.ebill.desk")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	d := ui.Open(ctx, a, env)
	go func() {
		<-ctx.Done()
		a.Quit()
	}()
	a.Lifecycle().SetOnStarted(func() {
		log.Info("ebill-desk started", "data", dataDir, "startup", time.Since(started).String())
		if os.Getenv("EBILL_DESK_EXIT_AFTER_START") != "" { // the cold-start benchmark
			go func() {
				time.Sleep(300 * time.Millisecond)
				fyne.Do(a.Quit)
			}()
		}
	})
	d.Win.ShowAndRun()
	// Let background work (a bill being stored, a print being sent) finish,
	// but do not hang on a printer that never answers.
	done := make(chan struct{})
	go func() { env.Bridge.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		log.Warn("background work still running at exit")
	}
	return nil
}

func runSyncLoop(ctx context.Context, store *localstore.Store, log *slog.Logger) {
	svc, err := ebsync.NewService(ctx, store, log, Version)
	if err != nil {
		log.Warn("sync not started", "err", err)
		return
	}
	r := &ebsync.Runner{Service: svc, Interval: 15 * time.Second}
	r.Run(ctx)
}
