package server_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// TestInspection (巡检报告, 运维日志): a report names each item 正常, 异常 or
// 未检查 from what the server holds — here a certificate ten days from its
// end, a station that never synced and one HIS call in ten failed are the
// anomalies — and is kept; the maintenance log links to it; the daily
// runner makes one report a day, not one per start; only the system
// administrator may run it.
func TestInspection(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := context.Background()
		setupUnit(t, s)
		sys := server.WithActor(ctx, server.Actor{Who: "cli:test", System: true})
		must(t, s.AddPoint(sys, "P01", "门诊一号窗口", server.PointStation))
		enrollStation(t, s, "P01") // enrolled, never synced
		s.SetInspectEnv(server.InspectEnv{Version: "1.2.3", Started: time.Now().Add(-3 * time.Hour), DataDir: t.TempDir(),
			CertExpiry: func() (time.Time, bool) { return time.Now().Add(10 * 24 * time.Hour), true },
			HISCalls:   func() (int64, int64) { return 10, 1 }})
		if s.Dialect() == server.SQLite {
			must(t, s.Backup(sys, filepath.Join(t.TempDir(), "b.db")))
		}
		billAdmin := asUser(&server.User{Login: "wang", Roles: []string{server.RoleBillAdmin}})
		if _, err := s.Inspect(billAdmin, "manual"); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("a bill administrator inspecting: %v", err)
		}
		admin := asUser(&server.User{Login: "it", Roles: []string{server.RoleSysAdmin}})
		r, err := s.Inspect(admin, "manual")
		must(t, err)
		status := map[string]string{}
		for _, it := range r.Items {
			status[it.Name] = it.Status + " " + it.Detail
		}
		for name, want := range map[string]string{
			"服务器版本与运行时间": "ok 版本 1.2.3，已运行 3 小时 0 分",
			"TLS 证书":     "bad",
			"收费电脑":       "bad P01 从未同步",
			"HIS 调用错误率":  "bad 服务器启动以来 10 次调用，失败 1 次（10.0%）",
			"审计日志完整性":    "ok",
			"磁盘空间":       "ok",
			"恢复演练":       "unknown",
		} {
			if !strings.HasPrefix(status[name], want) {
				t.Errorf("%s: %q, want %q…", name, status[name], want)
			}
		}
		if s.Dialect() == server.SQLite && !strings.HasPrefix(status["数据备份"], "ok") {
			t.Errorf("backup: %q", status["数据备份"])
		}
		if r.Anomalies != len(r.Bad()) || r.Anomalies < 3 {
			t.Fatalf("%d anomalies: %+v", r.Anomalies, r.Bad())
		}
		// The next report compares with this one: no new HIS calls.
		r2, err := s.Inspect(admin, "manual")
		must(t, err)
		for _, it := range r2.Items {
			if it.Name == "HIS 调用错误率" && it.Detail != "上次巡检以来没有 HIS 调用" {
				t.Errorf("the second report's HIS line: %q", it.Detail)
			}
			if it.Name == "数据库大小与增长" && !strings.Contains(it.Detail, "比上次巡检") {
				t.Errorf("the second report's size line: %q", it.Detail)
			}
		}
		e, err := s.LogMaintenance(admin, "fix", "更换 TLS 证书，有效期至 2027-12-01", r.ID)
		must(t, err)
		if _, err := s.LogMaintenance(admin, "fix", "x", "no-such-report"); bill.ErrorCode(err) != bill.ENotFound {
			t.Fatalf("a log entry for a missing report: %v", err)
		}
		log, err := s.MaintenanceLog(admin, r.ID)
		must(t, err)
		if len(log) != 1 || log[0].ID != e.ID || log[0].Actor != "it" {
			t.Fatalf("the report's log: %+v", log)
		}
		last, err := s.LastInspection(admin)
		must(t, err)
		if last.ID != r2.ID {
			t.Fatalf("the last report is %s, want %s", last.ID, r2.ID)
		}
		// The daily runner: once, then not again within the day.
		for range 2 {
			run := s.InspectionRunner(time.Hour)
			must(t, run.Start(ctx))
			time.Sleep(300 * time.Millisecond)
			must(t, run.Stop(ctx))
		}
		list, err := s.Inspections(admin)
		must(t, err)
		daily := 0
		for _, x := range list {
			if x.Kind == "daily" {
				daily++
			}
		}
		if daily != 1 || len(list) != 3 {
			t.Fatalf("%d reports, %d daily", len(list), daily)
		}
	})
}
