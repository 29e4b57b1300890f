// Command ebill-desk is the cashier's and exam nurse's desktop: issue,
// reverse, print, paper bills, queries, stock and the daily closing, from
// the station's local store, online or not.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/ebill/ebill/assets"
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
		*dataDir = defaultDataDir()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dataDir, *runSync, log); err != nil {
		fmt.Fprintln(os.Stderr, "错误：", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dataDir string, runSync bool, log *slog.Logger) error {
	started := time.Now()
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

func defaultDataDir() string {
	if runtime.GOOS == "windows" {
		if pd := os.Getenv("ProgramData"); pd != "" {
			return filepath.Join(pd, "ebill")
		}
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "ebill")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "ebill")
	}
	return "ebill-data"
}
