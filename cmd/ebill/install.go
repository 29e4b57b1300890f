package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/winsetup"
	"github.com/ebill/ebill/internal/private"
	"github.com/ebill/ebill/localstore"
)

// cmdInstallFinish is what the MSI runs, elevated, at the end of an
// install or upgrade (windows.md): it creates the data folder and sets its
// ACL, gives the sync service its recovery actions, and, when the silent
// install was given SERVER and CODE, enrolls the PC. Each step's outcome
// goes to install.log in the data folder (and to standard output). A
// failed step does not fail the install: the log says what to do, and the
// desk's first run asks for what enrollment still needs.
func cmdInstallFinish(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("install-finish", "[--server https://服务器:8443 --code 注册码 [--fingerprint 证书指纹]]")
	server := fs.String("server", "", "服务器地址（静默安装的 SERVER 属性）")
	code := fs.String("code", "", "一次性注册码（CODE 属性）")
	fingerprint := fs.String("fingerprint", "", "服务器证书指纹（FINGERPRINT 属性）")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	dir, err := filepath.Abs(a.dataDir)
	if err != nil {
		return err
	}
	a.dataDir = dir
	var lines []string
	note := func(format string, args ...any) {
		line := time.Now().In(bill.Beijing).Format("2006-01-02 15:04:05 ") + fmt.Sprintf(format, args...)
		lines = append(lines, line)
		a.Printf("%s\n", line)
	}
	if err := winsetup.SecureDataDir(dir); err != nil {
		note("数据目录 %s 的访问权限设置失败：%v。请以管理员身份重新运行安装程序（修复）。", dir, err)
	} else {
		note("数据目录：%s（SYSTEM、管理员完全控制，本机用户可修改）", dir)
	}
	if err := winsetup.SetServiceRecovery(ServiceName); err != nil {
		note("同步服务 %s 的恢复操作未设置：%v", ServiceName, err)
	} else {
		note("同步服务 %s：延迟自动启动，故障后 10 秒、30 秒、60 秒重启", ServiceName)
	}
	enrolledAs := ""
	if _, err := os.Stat(filepath.Join(dir, localstore.FileName)); err == nil {
		if s, err := a.open(ctx); err == nil {
			if st, err := s.Station(ctx); err == nil && st.ServerURL != "" {
				enrolledAs = st.PlaceCode + " " + st.PlaceName
			}
			s.Close()
		} else {
			note("本机数据库无法打开：%s", bill.ErrorMessage(err))
		}
	}
	switch {
	case enrolledAs != "" && *code == "":
		note("本机已注册为开票点 %s，票据数据保留在 %s。", enrolledAs, dir)
	case *server == "" && *code == "":
		note("未提供 SERVER 和 CODE：本机未注册。请在收费桌面程序首次运行时填写，或执行 ebill enroll。")
	case *server == "" || *code == "":
		note("SERVER 和 CODE 须同时提供：本机未注册。请执行 ebill enroll --server 地址 --code 注册码 --fingerprint 指纹。")
	default:
		if err := cmdEnroll(ctx, a, []string{"--server", *server, "--code", *code, "--fingerprint", *fingerprint}); err != nil {
			note("注册失败：%s 安装已完成，请核对后执行 ebill enroll --server %s --code 注册码 --fingerprint 指纹。",
				bill.ErrorMessage(err), *server)
		} else {
			note("已注册到服务器 %s。", *server)
		}
	}
	logPath := filepath.Join(dir, "install.log")
	if err := private.File(logPath); err == nil {
		if f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
			fmt.Fprintln(f, strings.Join(lines, "\n"))
			f.Close()
		}
	}
	return nil
}
