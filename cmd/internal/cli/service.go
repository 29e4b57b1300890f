package cli

import (
	"errors"
	"os"
	"runtime"

	"github.com/kardianos/service"
)

// The OS services of the programs (the station's sync service, the
// server's serve) are installed and inspected the same way: these are the
// words both say it with.

// ServiceActionName is an install/uninstall/start/stop action in Chinese.
func ServiceActionName(action string) string {
	return map[string]string{"install": "安装", "uninstall": "卸载", "start": "启动", "stop": "停止"}[action]
}

// ServiceStatus says in Chinese whether the service named name is
// installed and running. On Linux without systemd, kardianos/service's
// System V init answers "not running" with an error: the unit file says
// whether it is installed.
func ServiceStatus(svc service.Service, name string) string {
	st, err := svc.Status()
	unit := UnitFile(name)
	switch {
	case errors.Is(err, service.ErrNotInstalled), err != nil && runtime.GOOS == "linux" && unit == "":
		return "未安装"
	case err != nil && runtime.GOOS == "linux":
		return "已安装（" + unit + "），未运行"
	case err != nil:
		return "已安装，状态未知（" + err.Error() + "）"
	case st == service.StatusRunning:
		return "运行中"
	case st == service.StatusStopped:
		return "已安装，未运行"
	}
	return "状态未知"
}

// UnitFile is the service definition install wrote on Linux, or "".
func UnitFile(name string) string {
	for _, f := range []string{"/etc/systemd/system/" + name + ".service", "/etc/init.d/" + name} {
		if _, err := os.Stat(f); err == nil {
			return f
		}
	}
	return ""
}
