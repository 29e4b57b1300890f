package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/kardianos/service"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/cli"
	"github.com/ebill/ebill/internal/private"
	"github.com/ebill/ebill/localstore"
	ebsync "github.com/ebill/ebill/sync"
)

// ServiceName is the OS service of the sync loop ("EBillSync" on Windows,
// a systemd unit on Linux).
const ServiceName = "EBillSync"

var syncCommands = map[string]func(context.Context, *app, []string) error{
	"once":      cmdSyncOnce,
	"run":       cmdSyncRun,
	"now":       cmdSyncNow,
	"install":   cmdSyncControl("install"),
	"uninstall": cmdSyncControl("uninstall"),
	"start":     cmdSyncControl("start"),
	"stop":      cmdSyncControl("stop"),
	"status":    cmdSyncServiceStatus,
}

func cmdSync(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		if fn, ok := syncCommands[args[0]]; ok {
			return fn(ctx, a, args[1:])
		}
	}
	fmt.Fprintln(a.Stderr, "用法：ebill sync once | run | now | install | uninstall | start | stop | status")
	return errUsage
}

func cmdSyncOnce(ctx context.Context, a *app, _ []string) error {
	return a.withStore(ctx, func(s *localstore.Store) error {
		svc, err := ebsync.NewService(ctx, s, a.Log, Version)
		if err != nil {
			return err
		}
		r := svc.Once(ctx)
		if a.JSON {
			out := map[string]any{"uploaded": r.Uploaded, "rejected": r.Rejected, "paper": r.Paper, "allocated": nonNil(r.Allocated),
				"pending": r.Pending, "ok": r.Err == nil}
			if r.Err != nil {
				out["error"] = bill.ErrorMessage(r.Err)
				a.PrintJSON(out)
				return reported{Err: r.Err}
			}
			a.PrintJSON(out)
			return nil
		}
		printPass(a, r)
		return r.Err
	})
}

func printPass(a *app, r ebsync.Report) {
	a.Printf("%s 已上传 %d 张，待上传 %d 张", time.Now().In(bill.Beijing).Format("15:04:05"), r.Uploaded, r.Pending)
	if r.Rejected > 0 {
		a.Printf("，被拒收 %d 张", r.Rejected)
	}
	if r.Paper > 0 {
		a.Printf("，纸质票据记录 %d 条", r.Paper)
	}
	if r.Err != nil {
		a.Printf("；%s", bill.ErrorMessage(r.Err))
	}
	a.Printf("\n")
	for _, sg := range r.Allocated {
		a.Printf("取得新号段 %s\n", sg)
	}
}

// cmdSyncNow asks a running sync service to start a pass at once.
func cmdSyncNow(ctx context.Context, a *app, _ []string) error {
	return a.withStore(ctx, func(s *localstore.Store) error {
		if err := s.RequestSync(ctx); err != nil {
			return err
		}
		return a.Report(map[string]bool{"requested": true}, "已通知同步服务立即同步。\n")
	})
}

// program is the sync loop as an OS service; Start returns at once and Stop
// returns within seconds. A fault the loop cannot survive (a database it
// cannot read, one written by a newer version) ends the process with a
// non-zero status, so that the service's recovery actions fire.
type program struct {
	a      *app
	elog   service.Logger // the Windows event log (syslog elsewhere); nil in a console
	wait   time.Duration  // between enrollment checks
	cancel context.CancelFunc
	done   chan struct{}
}

func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	p.event(false, "ebill 同步服务已启动，数据目录 "+p.a.dataDir)
	go func() {
		defer close(p.done)
		if err := p.loop(ctx); err != nil {
			p.a.Log.Error("sync service stopped by a fault", "err", err)
			p.event(true, "ebill 同步服务因故障停止："+bill.ErrorMessage(err))
			code := cli.ExitCode(bill.ErrorCode(err))
			if code == cli.ExitOK {
				code = cli.ExitInternal
			}
			os.Exit(code) // non-zero: the recovery actions restart it, the event log says why
		}
	}()
	return nil
}

func (p *program) Stop(service.Service) error {
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
	p.event(false, "ebill 同步服务已停止")
	return nil
}

func (p *program) event(isErr bool, msg string) {
	if p.elog == nil {
		return
	}
	if isErr {
		p.elog.Error(msg)
	} else {
		p.elog.Info(msg)
	}
}

// errNotEnrolled: the data folder holds no enrolled station yet.
var errNotEnrolled = errors.New("not enrolled")

// loop is the same code for the console (`sync run`) and the service. It
// first waits for the station to be enrolled (a service installed with
// the programs starts before enrollment), checking every p.wait, then
// syncs until ctx ends. An error it returns is fatal.
func (p *program) loop(ctx context.Context) error {
	var s *localstore.Store
	var svc *ebsync.Service
	for waited := false; ; waited = true {
		var err error
		s, svc, err = p.ready(ctx)
		if err == nil {
			if waited {
				p.a.Log.Info("station enrolled: sync starts")
			}
			break
		}
		if !errors.Is(err, errNotEnrolled) {
			return err
		}
		if !waited {
			p.a.Log.Info("waiting for enrollment", "data", p.a.dataDir, "every", p.wait.String())
			p.event(false, "本机尚未注册到服务器，同步服务等待注册（ebill enroll）后自动开始。")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(p.wait):
		}
	}
	defer s.Close()
	r := &ebsync.Runner{Service: svc, OnPass: func(rep ebsync.Report) {
		if rep.Err != nil {
			p.a.Log.Warn("sync pass", "uploaded", rep.Uploaded, "pending", rep.Pending, "err", bill.ErrorMessage(rep.Err))
		} else {
			p.a.Log.Info("sync pass", "uploaded", rep.Uploaded, "paper", rep.Paper, "pending", rep.Pending, "allocated", rep.Allocated)
		}
	}}
	return r.Run(ctx)
}

// ready opens the store of an enrolled station and its sync service;
// errNotEnrolled when there is none yet.
func (p *program) ready(ctx context.Context) (*localstore.Store, *ebsync.Service, error) {
	if _, err := os.Stat(filepath.Join(p.a.dataDir, localstore.FileName)); errors.Is(err, os.ErrNotExist) {
		return nil, nil, errNotEnrolled
	}
	s, err := p.a.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.Station(ctx)
	if bill.ErrorCode(err) == bill.ENotFound || (err == nil && st.ServerURL == "") {
		s.Close()
		return nil, nil, errNotEnrolled
	}
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	svc, err := ebsync.NewService(ctx, s, p.a.Log, Version)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, svc, nil
}

func (a *app) serviceConfig() (*service.Config, error) {
	dir, err := filepath.Abs(a.dataDir)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return &service.Config{
		Name:        ServiceName,
		DisplayName: "ebill 电子票据同步服务",
		Description: "上传本机离线开具的电子票据，取得号段和基础数据。",
		Executable:  exe,
		Arguments:   []string{"--data", dir, "sync", "run"},
		// Automatic (delayed) start; restarted 10 s after a fault (the MSI
		// sets the 10/30/60 s actions of windows.md with `ebill install-finish`).
		Option: service.KeyValue{"StartType": "automatic", "DelayedAutoStart": true, "OnFailure": "restart",
			"OnFailureDelayDuration": "10s", "OnFailureResetPeriod": 86400},
	}, nil
}

func cmdSyncRun(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("sync run", "[--enroll-wait 1m]")
	wait := fs.Duration("enroll-wait", time.Minute, "尚未注册时，检查是否已注册的间隔")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := private.Dir(a.dataDir); err != nil {
		return bill.Errorf(bill.EInvalid, "无法创建数据目录 %s：%v", a.dataDir, err)
	}
	// sync.log, rotated at 10 MB, five old files kept.
	logFile := &lumberjack.Logger{Filename: filepath.Join(a.dataDir, "sync.log"), MaxSize: 10, MaxBackups: 5}
	defer logFile.Close()
	var out io.Writer = logFile
	if service.Interactive() {
		out = io.MultiWriter(logFile, a.Stderr)
	}
	a.Log = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	prg := &program{a: a, wait: *wait}
	if service.Interactive() {
		a.Printf("同步服务在前台运行（Ctrl+C 退出），日志：%s\n", logFile.Filename)
		return prg.loop(ctx)
	}
	cfg, err := a.serviceConfig()
	if err != nil {
		return err
	}
	svc, err := service.New(prg, cfg)
	if err != nil {
		return err
	}
	if prg.elog, err = svc.Logger(nil); err != nil {
		a.Log.Warn("no system log for the service", "err", err)
		prg.elog = nil
	}
	return svc.Run()
}

func cmdSyncControl(action string) func(context.Context, *app, []string) error {
	return func(ctx context.Context, a *app, _ []string) error {
		cfg, err := a.serviceConfig()
		if err != nil {
			return err
		}
		svc, err := service.New(&program{a: a}, cfg)
		if err != nil {
			return err
		}
		if err := service.Control(svc, action); err != nil {
			return bill.Errorf(bill.EInvalid, "同步服务%s失败：%v（需要管理员权限）", cli.ServiceActionName(action), err)
		}
		return a.Report(map[string]string{"service": ServiceName, "action": action}, "同步服务 %s 已%s。\n", ServiceName, cli.ServiceActionName(action))
	}
}

func cmdSyncServiceStatus(ctx context.Context, a *app, _ []string) error {
	cfg, err := a.serviceConfig()
	if err != nil {
		return err
	}
	svc, err := service.New(&program{a: a}, cfg)
	if err != nil {
		return err
	}
	text := cli.ServiceStatus(svc, ServiceName)
	return a.Report(map[string]string{"service": ServiceName, "status": text}, "同步服务 %s：%s\n", ServiceName, text)
}

func cmdServer(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "set" {
		fmt.Fprintln(a.Stderr, "用法：ebill server set --url https://服务器:8443 [--fingerprint 证书指纹]")
		return errUsage
	}
	fs := a.newFlags("server set", "--url https://服务器:8443 [--fingerprint 证书指纹]")
	url := fs.String("url", "", "服务器新地址")
	fingerprint := fs.String("fingerprint", "", "服务器证书指纹（自签名证书时填写）")
	if err := a.parse(fs, args[1:]); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		if err := s.SetServer(ctx, *url, *fingerprint); err != nil {
			return err
		}
		return a.Report(map[string]string{"server": *url}, "服务器地址已改为 %s；请执行 ebill sync once 确认能够连接。\n", *url)
	})
}
