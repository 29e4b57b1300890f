// Command ebill-server is the central server: the ledger, number stock and
// allocation, billing points and station enrollment, and the sync API. It
// runs on an embedded SQLite file by default, PostgreSQL with --db.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/cli"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
	"github.com/ebill/ebill/server/his"
	"github.com/ebill/ebill/server/web"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// app holds what every command needs: where the data is, and the output.
type app struct {
	cli.Out
	dataDir string
	dsn     string
	getenv  func(string) string
	in      *bufio.Reader // the terminal, for prompts
	opened  *server.Store // opened by the sign-in, for the command's first open
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, a *app, args []string) error
}

var commands = []command{
	{"serve", "启动服务", cmdServe},
	{"migrate", "升级数据库结构（serve 启动时也会自动执行）", cmdMigrate},
	{"unit", "set --name 单位名称 [--credit-code 统一社会信用代码]：设置开票单位", cmdUnit},
	{"kind", "set --kind 种类 --code 票据代码 | list：票据种类与票据代码", cmdKind},
	{"stock", "receive --kind einvoice|paper --code 代码 --from 起 --to 止 | list：票源入库与库存", cmdStock},
	{"point", "add 编码 --name 名称 [--kind station|server] | list | set 编码 … | enroll-code 编码 | revoke 编码", cmdPoint},
	{"segment", "list [--point 开票点]：已分配号段", cmdSegment},
	{"item", "import --file 收费项目.csv：导入收费项目（自动生成拼音首字母）", cmdItem},
	{"paychannel", "set 编码 --name 名称 [--disabled]：交费渠道", cmdPayChannel},
	{"message", "post --title 标题 --body 内容 [--point P]：向收费电脑发送消息", cmdMessage},
	{"bill", "list [--point P] [--from 日期 --to 日期] | show --code C --no N：服务器上的票据", cmdBill},
	{"conflict", "list [--point P]：上传冲突记录", cmdConflict},
	{"tls", "fingerprint：显示自签名证书指纹（收费电脑注册时核对）", cmdTLS},
	{"backup", "--to 文件：不停机备份 SQLite 数据库", cmdBackup},
	{"verify", "校验全部票据的签名和哈希、各开票链、号段、纸质票据和审计链，输出报告；有问题时退出码为 6", cmdVerify},
	{"restore", "--from 备份文件 [--to 新数据目录 | --to-db postgres://…]：恢复备份并校验，之后等待收费电脑上报号段", cmdRestore},
	{"restore-status", "恢复后各开票点上报号段的情况", cmdRestoreStatus},
	{"restore-release", "--point 开票点：恢复后不再等待某开票点上报", cmdRestoreRelease},
	{"diag", "[--out 文件.zip] [--no-verify]：生成诊断包（版本、设置、开票点、巡检、校验、数据库统计、近期日志），供技术支持", cmdDiag},
	{"station-version", "list | set --min 版本：各收费电脑的程序版本；设置最低版本（低于它的不能同步，提示升级）", cmdStationVersion},
	{"paper", "assign --point 开票点 --code 代码 --count 张数 | list --point 开票点：服务器开票点的纸质票据", cmdPaper},
	{"report", "health --date 日期 [--out 文件 | --push 地址]：卫健委日报", cmdReport},
	{"his-app", "add --appid A --key K --points P1,P2 | disable A | list | call --url U --appid A --service S --file F：登记、停用调用医疗票据接口的应用（HIS、体检系统、自助机），联调时模拟一次调用", cmdHISApp},
	{"init", "首次安装时创建系统管理员、安全管理员、审计管理员，显示其一次性密码", cmdInit},
	{"login", "[--user 登录名]：以本人身份登录（管理命令须先登录，或在 EBILL_TOKEN 中给出令牌）", cmdLogin},
	{"logout", "退出登录", cmdLogout},
	{"user", "add 登录名 --name 姓名 [--roles 角色,…] | roles 登录名 --roles … | points 登录名 --points P01,P02 | disable|enable 登录名 | reset-password 登录名 | unlock 登录名 | list", cmdUser},
	{"mfa", "enroll | confirm --code N：绑定动态验证码 | reset 登录名：重置他人的动态验证码", cmdMFA},
	{"token", "issue --user 账号 --name 用途 [--days N] | list | revoke 编号：脚本与定时任务用的令牌", cmdToken},
	{"policy", "show | set …：安全策略（密码、锁定、会话、双因素）", cmdPolicy},
	{"audit", "list [--after N] | verify [--checkpoint 文件 | --archive 文件] | checkpoint --out 文件 | archive --month 年-月：审计记录", cmdAudit},
	{"inspect", "[--daily]：立即巡检，显示各项结果（正常/异常/未检查）并保存报告；有异常时退出码为 1", cmdInspect},
	{"maintenance", "log --kind check|fix|change|other --what 内容 [--report 巡检报告编号] | list：运维日志", cmdMaintenance},
	{"service", "install [-- serve 的参数] | uninstall | start | stop | status：把 serve 安装为系统服务（Windows 服务或 systemd）", cmdService},
	{"version", "显示版本", cmdVersion},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{Out: cli.Out{Prog: "ebill-server", Stdout: stdout, Stderr: stderr}, getenv: getenv}
	fs := flag.NewFlagSet("ebill-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&a.dataDir, "data", envOr(getenv, "EBILL_SERVER_DATA", "ebill-server-data"), "数据目录（SQLite 数据库、证书）；环境变量 EBILL_SERVER_DATA")
	fs.StringVar(&a.dsn, "db", getenv("EBILL_DB"), "PostgreSQL 连接串 postgres://…；不填则使用数据目录中的 SQLite；环境变量 EBILL_DB")
	fs.BoolVar(&a.JSON, "json", false, "以 JSON 输出")
	fs.Usage = func() { usage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	a.Log = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if fs.NArg() == 0 {
		usage(stderr, fs)
		return 2
	}
	for _, c := range commands {
		if c.name != fs.Arg(0) {
			continue
		}
		perm, known := commandPermission(fs.Args())
		switch {
		case !known && (len(fs.Args()) == 1 || fs.Arg(1) == "-h" || fs.Arg(1) == "--help"):
			return a.Finish(c.run(ctx, a, fs.Args()[1:])) // the usage of a command with subcommands
		case !known:
			return a.Finish(c.run(ctx, a, fs.Args()[1:])) // an unknown subcommand: its usage, nothing run
		case perm == permPublic:
			return a.Finish(c.run(publicActor(ctx), a, fs.Args()[1:]))
		}
		signed, err := a.signIn(ctx, perm)
		if err != nil {
			return a.Finish(err)
		}
		err = c.run(signed, a, fs.Args()[1:])
		if a.opened != nil { // a command that did not open the store
			a.opened.Close()
		}
		return a.Finish(err)
	}
	fmt.Fprintf(stderr, "未知命令 %q。\n\n", fs.Arg(0))
	usage(stderr, fs)
	return 2
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "用法：ebill-server [--data 目录] [--db postgres://…] [--json] <命令> [参数]\n\n命令：")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n全局参数：")
	fs.PrintDefaults()
}

var errUsage = cli.ErrUsage

func (a *app) open(ctx context.Context) (*server.Store, error) {
	if s := a.opened; s != nil { // the store the sign-in opened: the command takes it over
		a.opened = nil
		return s, nil
	}
	return server.OpenStore(ctx, a.dsn, a.dataDir, append([]server.StoreOption{server.WithStoreLogger(a.Log)}, extraStoreOptions...)...)
}

// extraStoreOptions are set by builds for tests only (testclock.go).
var extraStoreOptions []server.StoreOption

// publicActor is who runs a command that needs no sign-in (the service,
// the bootstrap, signing in): the operating-system user, for the audit.
// It acts as the system only where the store allows that (Init checks
// that no administrator exists; serve runs the server's own work).
func publicActor(ctx context.Context) context.Context {
	who := "cli"
	if u, err := user.Current(); err == nil {
		who += ":" + u.Username
	}
	host, _ := os.Hostname()
	return server.WithActor(ctx, server.Actor{Who: who, From: host})
}

func (a *app) withStore(ctx context.Context, fn func(*server.Store) error) error {
	s, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

func (a *app) flags(name, usageLine string) *flag.FlagSet { return a.Flags(name, usageLine) }

func (a *app) parse(fs *flag.FlagSet, args []string, positional bool) (string, error) {
	return a.Parse(fs, args, positional)
}

func cmdServe(ctx context.Context, a *app, args []string) error {
	if asService, err := a.runAsService(func(ctx context.Context) error { return serve(ctx, a, args) }); asService {
		return err
	}
	return serve(ctx, a, args)
}

func serve(ctx context.Context, a *app, args []string) error {
	fs := a.flags("serve", "[--addr 0.0.0.0:8443] [--tls-cert 证书 --tls-key 私钥 | --insecure-http] [--host 域名或IP]")
	addr := fs.String("addr", "0.0.0.0:8443", "监听地址")
	certFile := fs.String("tls-cert", "", "TLS 证书文件（PEM）；不填则使用自动生成的自签名证书")
	keyFile := fs.String("tls-key", "", "TLS 私钥文件（PEM）")
	hosts := fs.String("host", "", "写入自签名证书的服务器域名或 IP，多个用逗号分隔")
	insecure := fs.Bool("insecure-http", false, "不加密的 HTTP（仅用于测试，或前面已有 HTTPS 反向代理）")
	publicURL := fs.String("public-url", "", "患者手机访问本服务器的地址（票据二维码指向此处的查验页），例如 https://pj.医院域名.cn；不填则用 --host 或 --addr 得出的本服务器地址")
	healthURL := fs.String("health-url", "", "卫健委日报的报送地址；设置后每天 1 点后自动报送前一天的报表（失败会重试）")
	smsLog := fs.String("sms-log", "", "未接短信网关时，患者验证码写入此文件（默认 数据目录/sms-outbox.log）")
	backupDir := fs.String("backup-dir", "", "定时备份写入的目录；默认 数据目录/backups（PostgreSQL 用 pg_dump，须已安装）")
	backupEvery := fs.Duration("backup-every", 24*time.Hour, "定时备份的间隔；0 为不做定时备份")
	backupKeep := fs.Int("backup-keep", 14, "保留最近几份定时备份（更早的自动删除）")
	archiveDir := fs.String("audit-archive", "", "审计记录按月归档的目录（每月初自动写入上月记录，请定期复制到只读介质）；默认 数据目录/archive")
	metricsAllow := fs.String("metrics-allow", "", "允许读取 /metrics 的地址或网段，逗号分隔（本机总是允许），如 10.1.2.3,10.9.0.0/16；也可用环境变量 EBILL_METRICS_TOKEN 设令牌")
	if _, err := a.parse(fs, args, false); err != nil {
		return err
	}
	allow, err := api.ParsePrefixes(*metricsAllow)
	if err != nil {
		return bill.Errorf(bill.EInvalid, "--metrics-allow 中的地址不正确：%v", err)
	}
	store, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return bill.Errorf(bill.EInvalid, "无法监听 %s：%v", *addr, err)
	}
	handler := api.New(store, a.Log)
	handler.SetMetricsAccess(api.MetricsAccess{Allow: allow, Token: a.getenv("EBILL_METRICS_TOKEN")})
	his.Mount(handler, store)
	console := web.Mount(handler, store)
	if *smsLog == "" {
		*smsLog = filepath.Join(a.dataDir, "sms-outbox.log")
	}
	handler.SetSender(&server.LogSender{Path: *smsLog})
	// Background work, started now and stopped in reverse order after the
	// HTTP server stops taking requests and before the store closes.
	// The certificate's end, for the reminder; known once it is loaded below.
	var certEnd atomic.Int64
	reminders := server.Reminders{SilentAfter: 4 * time.Hour, CertWarn: 30 * 24 * time.Hour, CertExpiry: func() (time.Time, bool) {
		ms := certEnd.Load()
		return time.UnixMilli(ms), ms != 0
	}}
	store.SetInspectEnv(server.InspectEnv{Version: Version, Started: time.Now(), DataDir: a.dataDir, CertExpiry: reminders.CertExpiry,
		HISCalls: func() (int64, int64) { return hisCalls(handler.Registry()) }})
	runners := []server.Runner{store.Issuers(), store.Noises(), store.DormantAccounts(24 * time.Hour), store.RemindersRunner(10*time.Minute, reminders),
		store.InspectionRunner(time.Hour)}
	if *archiveDir == "" {
		*archiveDir = filepath.Join(a.dataDir, "archive")
	}
	runners = append(runners, store.AuditArchiver(*archiveDir, 6*time.Hour))
	if *backupEvery > 0 {
		if *backupDir == "" {
			*backupDir = filepath.Join(a.dataDir, "backups")
		}
		runners = append(runners, store.ScheduledBackups(*backupDir, *backupEvery, *backupKeep))
	}
	if *healthURL != "" {
		runners = append(runners, store.HealthPush(*healthURL, 10*time.Minute))
	}
	for i, r := range runners {
		if err := r.Start(ctx); err != nil {
			stopRunners(a, runners[:i])
			ln.Close()
			return err
		}
	}
	defer stopRunners(a, runners)
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 2 * time.Minute, WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	scheme, fingerprint := "http", ""
	if !*insecure {
		cert, err := loadCert(a.dataDir, *certFile, *keyFile, *hosts)
		if err != nil {
			ln.Close()
			return err
		}
		fingerprint = api.Fingerprint(cert)
		console.SetFingerprint(fingerprint)
		if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil {
			certEnd.Store(leaf.NotAfter.UnixMilli())
		}
		ln = tls.NewListener(ln, api.TLSConfig(cert))
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()
	if *publicURL == "" {
		pub, localOnly := defaultPublicURL(scheme, *hosts, ln.Addr())
		*publicURL = pub
		if localOnly {
			a.Log.Warn("public URL is loopback only: QR codes cannot be verified from phones", "publicURL", pub)
			fmt.Fprintf(a.Stderr, "警告：未设置 --public-url，票据二维码指向 %s，这个地址只有服务器本机能访问，患者手机扫码无法查验。"+
				"请用 --public-url 设置患者手机能访问的地址（如 https://pj.医院域名.cn），或用 --host 写明服务器的域名或 IP。\n", pub)
		} else {
			a.Log.Info("public URL defaults to the server's own address", "publicURL", pub)
		}
	}
	handler.SetPublicURL(*publicURL)
	a.Log.Info("ebill-server started", "url", url, "database", store.Dialect(), "fingerprint", fingerprint, "version", Version)
	a.Report(map[string]string{"url": url, "fingerprint": fingerprint, "database": store.Dialect(), "publicURL": *publicURL},
		"ebill-server 已启动：%s（数据库 %s）\n证书指纹：%s\n票据二维码查验地址：%s\n", url, store.Dialect(), fingerprint, *publicURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a.Log.Info("ebill-server stopping")
	return srv.Shutdown(shutdown)
}

// stopRunners stops background work in reverse order, each within 10 s.
func stopRunners(a *app, runners []server.Runner) {
	for i := len(runners) - 1; i >= 0; i-- {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := runners[i].Stop(ctx); err != nil {
			a.Log.Warn("background work did not stop in time", "runner", runners[i].Name(), "err", err)
		}
		cancel()
	}
}

// defaultPublicURL is the address QR codes point at when --public-url is
// not given: the first --host name, else the listening address (a wildcard
// address becomes this machine's first LAN address). localOnly says that
// only the server itself can reach it (a loopback address).
func defaultPublicURL(scheme, hosts string, addr net.Addr) (url string, localOnly bool) {
	host, port, _ := net.SplitHostPort(addr.String())
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			host = h
			break
		}
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = lanAddress()
	}
	ip := net.ParseIP(host)
	localOnly = strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback())
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		return scheme + "://" + hostForURL(host), localOnly
	}
	return scheme + "://" + net.JoinHostPort(host, port), localOnly
}

func hostForURL(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

// lanAddress is this machine's first non-loopback IPv4 address, or
// 127.0.0.1 when it has none.
func lanAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil && !n.IP.IsLinkLocalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

func loadCert(dataDir, certFile, keyFile, hosts string) (tls.Certificate, error) {
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return cert, bill.Errorf(bill.EInvalid, "无法读取 TLS 证书或私钥：%v", err)
		}
		return cert, nil
	}
	cert, err := api.SelfSignedCert(dataDir, strings.Split(hosts, ","))
	if err != nil {
		return cert, fmt.Errorf("self-signed certificate: %w", err)
	}
	return cert, nil
}

func cmdTLS(_ context.Context, a *app, args []string) error {
	if len(args) != 1 || args[0] != "fingerprint" {
		fmt.Fprintln(a.Stderr, "用法：ebill-server tls fingerprint")
		return errUsage
	}
	cert, err := api.SelfSignedCert(a.dataDir, nil)
	if err != nil {
		return err
	}
	fp := api.Fingerprint(cert)
	return a.Report(map[string]string{"fingerprint": fp}, "%s\n", fp)
}

func cmdMigrate(ctx context.Context, a *app, args []string) error {
	return a.withStore(ctx, func(s *server.Store) error {
		return a.Report(map[string]string{"database": s.Dialect(), "status": "ok"}, "数据库结构已是最新（%s）。\n", s.Dialect())
	})
}

func cmdBackup(ctx context.Context, a *app, args []string) error {
	fs := a.flags("backup", "--to 备份文件")
	to := fs.String("to", "", "备份文件路径（不能已存在）")
	if _, err := a.parse(fs, args, false); err != nil {
		return err
	}
	if *to == "" {
		return bill.Errorf(bill.EInvalid, "缺少参数 --to")
	}
	return a.withStore(ctx, func(s *server.Store) error {
		if err := s.Backup(ctx, *to); err != nil {
			return err
		}
		return a.Report(map[string]string{"backup": *to}, "已备份到 %s\n", *to)
	})
}

func cmdInspect(ctx context.Context, a *app, args []string) error {
	fs := a.flags("inspect", "[--daily]")
	daily := fs.Bool("daily", false, "记为每日巡检（供计划任务调用）")
	if _, err := a.parse(fs, args, false); err != nil {
		return err
	}
	kind := "manual"
	if *daily {
		kind = "daily"
	}
	return a.withStore(ctx, func(s *server.Store) error {
		s.SetInspectEnv(server.InspectEnv{Version: Version, DataDir: a.dataDir})
		r, err := s.Inspect(ctx, kind)
		if err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "巡检报告 %s（%s）\n", r.ID, r.At.In(bill.Beijing).Format("2006-01-02 15:04:05"))
		for _, it := range r.Items {
			fmt.Fprintf(&b, "  [%s] %s：%s\n", it.StatusName(), it.Name, it.Detail)
		}
		if err := a.Report(r, "%s", b.String()); err != nil {
			return err
		}
		if r.Anomalies > 0 {
			return bill.Errorf(bill.EConflict, "发现 %d 项异常，请处理后记入运维日志（ebill-server maintenance log）。", r.Anomalies)
		}
		return nil
	})
}

func cmdMaintenance(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return bill.Errorf(bill.EInvalid, "用法：ebill-server maintenance log --kind fix --what 内容 [--report 编号] | list")
	}
	switch args[0] {
	case "log":
		fs := a.flags("maintenance log", "--kind K --what 内容 [--report 编号]")
		kind := fs.String("kind", "check", "check 检查 | fix 故障处理 | change 变更 | other 其他")
		what := fs.String("what", "", "检查或处理的内容")
		report := fs.String("report", "", "关联的巡检报告编号")
		if _, err := a.parse(fs, args[1:], false); err != nil {
			return err
		}
		return a.withStore(ctx, func(s *server.Store) error {
			e, err := s.LogMaintenance(ctx, *kind, *what, *report)
			if err != nil {
				return err
			}
			return a.Report(e, "已记入运维日志（%s）。\n", e.ID)
		})
	case "list":
		return a.withStore(ctx, func(s *server.Store) error {
			log, err := s.MaintenanceLog(ctx, "")
			if err != nil {
				return err
			}
			var b strings.Builder
			for _, e := range log {
				fmt.Fprintf(&b, "%s  %s  %s  %s\n", e.At.In(bill.Beijing).Format("2006-01-02 15:04"), e.Actor, e.KindName(), e.What)
			}
			return a.Report(log, "%s", b.String())
		})
	}
	return bill.Errorf(bill.EInvalid, "未知的子命令 %q：log 或 list。", server.Truncate(args[0], 20))
}

func cmdVersion(_ context.Context, a *app, _ []string) error {
	return a.Report(map[string]string{"version": Version}, "ebill-server %s\n", Version)
}

// hisCalls sums the HIS API's calls so far, and those that failed (a
// result other than S0000), from the server's metrics.
func hisCalls(reg *prometheus.Registry) (total, failed int64) {
	families, err := reg.Gather()
	if err != nil {
		return 0, 0
	}
	for _, f := range families {
		if f.GetName() != "ebill_his_calls_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			n := int64(m.GetCounter().GetValue())
			total += n
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() != "S0000" {
					failed += n
				}
			}
		}
	}
	return total, failed
}
