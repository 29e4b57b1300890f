package main

import (
	"context"
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
)

// ServerServiceName is the OS service that runs `ebill-server serve`:
// a Windows service on Windows Server, a systemd unit on Linux (the repo's
// packaging/linux/ebill-server.service is the same unit, to install by
// hand or by configuration management).
const ServerServiceName = "EBillServer"

// cmdService installs and controls ebill-server as an OS service. The
// arguments after "install --" are serve's (--addr, --tls-cert, ...); the
// global --data and --db are recorded as given.
func cmdService(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(a.Stderr, "用法：ebill-server [--data 目录] [--db 连接串] service install [-- serve 的参数] | uninstall | start | stop | status")
		return errUsage
	}
	action, rest := args[0], args[1:]
	if len(rest) > 0 && rest[0] == "--" {
		rest = rest[1:]
	}
	cfg, err := a.serverServiceConfig(rest)
	if err != nil {
		return err
	}
	svc, err := service.New(&serverProgram{}, cfg)
	if err != nil {
		return err
	}
	switch action {
	case "install", "uninstall", "start", "stop":
		if err := service.Control(svc, action); err != nil {
			return bill.Errorf(bill.EInvalid, "服务 %s %s失败：%v（需要管理员/root 权限）", ServerServiceName, cli.ServiceActionName(action), err)
		}
		return a.Report(map[string]string{"service": ServerServiceName, "action": action}, "服务 %s 已%s。\n", ServerServiceName, cli.ServiceActionName(action))
	case "status":
		text := cli.ServiceStatus(svc, ServerServiceName)
		return a.Report(map[string]string{"service": ServerServiceName, "status": text}, "服务 %s：%s\n", ServerServiceName, text)
	}
	return bill.Errorf(bill.EInvalid, "未知的操作 %q：应为 install、uninstall、start、stop 或 status。", action)
}

func (a *app) serverServiceConfig(serveArgs []string) (*service.Config, error) {
	dir, err := filepath.Abs(a.dataDir)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"--data", dir}
	if a.dsn != "" {
		args = append(args, "--db", a.dsn)
	}
	return &service.Config{
		Name:         ServerServiceName,
		DisplayName:  "ebill 医疗电子票据服务器",
		Description:  "医疗电子票据中心服务器：收费电脑同步、HIS 接口、管理端。",
		Executable:   exe,
		Arguments:    append(append(args, "serve"), serveArgs...),
		Dependencies: []string{"After=network-online.target postgresql.service", "Wants=network-online.target"},
		Option: service.KeyValue{"StartType": "automatic", "DelayedAutoStart": true, "OnFailure": "restart",
			"OnFailureDelayDuration": "10s", "OnFailureResetPeriod": 86400, "Restart": "always", "LimitNOFILE": 65536},
	}, nil
}

// serverProgram runs serve under the service manager: Start returns at
// once; Stop shuts the HTTP server and the background work down; a fault
// ends the process non-zero so that the recovery actions fire.
type serverProgram struct {
	run    func(ctx context.Context) error
	elog   service.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

func (p *serverProgram) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		err := p.run(ctx)
		if err != nil && ctx.Err() == nil {
			if p.elog != nil {
				p.elog.Error("ebill-server 因故障停止：" + bill.ErrorMessage(err))
			}
			code := cli.ExitCode(bill.ErrorCode(err))
			if code == cli.ExitOK {
				code = cli.ExitInternal
			}
			os.Exit(code)
		}
	}()
	return nil
}

func (p *serverProgram) Stop(service.Service) error {
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
	}
	return nil
}

// runAsService runs serve (fn) under the service manager when the process
// was started by one; it reports false when started from a console.
func (a *app) runAsService(fn func(ctx context.Context) error) (bool, error) {
	if service.Interactive() {
		return false, nil
	}
	// No console: the log goes to server.log in the data folder too.
	logFile := &lumberjack.Logger{Filename: filepath.Join(a.dataDir, "server.log"), MaxSize: 50, MaxBackups: 10}
	defer logFile.Close()
	a.Log = slog.New(slog.NewJSONHandler(io.MultiWriter(a.Stderr, logFile), &slog.HandlerOptions{Level: slog.LevelInfo}))
	prg := &serverProgram{run: fn}
	cfg, err := a.serverServiceConfig(nil)
	if err != nil {
		return true, err
	}
	svc, err := service.New(prg, cfg)
	if err != nil {
		return true, err
	}
	if prg.elog, err = svc.Logger(nil); err != nil {
		prg.elog = nil
	}
	return true, svc.Run()
}
