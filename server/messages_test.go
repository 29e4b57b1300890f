package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/sync/wire"
)

// TestMessages (消息中心): a notice to a point reaches that point's station
// only; one to a console role reaches no station and shows to that role;
// read receipts come back with the station's status.
func TestMessages(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := context.Background()
		admin := asUser(&server.User{Login: "wang", Roles: []string{server.RoleBillAdmin}})
		setupUnit(t, s)
		must(t, s.AddPoint(ctx, "P01", "一号窗口", server.PointStation))
		must(t, s.AddPoint(ctx, "P02", "二号窗口", server.PointStation))
		enrollStation(t, s, "P01")
		enrollStation(t, s, "P02")
		toP01, err := s.SendMessage(admin, server.Message{Point: "P01", Title: "明天停电", Body: "请提前准备纸质票据。"})
		must(t, err)
		_, err = s.SendMessage(admin, server.Message{Role: server.RoleChecker, Title: "月底核销", Body: "请审核入库单。"})
		must(t, err)
		if _, err := s.SendMessage(asUser(&server.User{Login: "chen", Roles: []string{server.RoleChecker}}), server.Message{Title: "x"}); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("a checker posting: %v", err)
		}
		if _, err := s.SendMessage(admin, server.Message{Role: "boss", Title: "x"}); bill.ErrorCode(err) != bill.EInvalid {
			t.Fatalf("an unknown role: %v", err)
		}
		titles := func(point string) string {
			md, err := s.MasterDataSince(ctx, point, 0)
			must(t, err)
			var out []string
			for _, m := range md.Messages {
				out = append(out, m.Title)
			}
			return strings.Join(out, ",")
		}
		if got := titles("P01"); got != "明天停电" {
			t.Fatalf("P01's station gets %q", got)
		}
		if got := titles("P02"); got != "" {
			t.Fatalf("P02's station gets %q", got)
		}
		mine, err := s.MyMessages(asUser(&server.User{Login: "chen", Roles: []string{server.RoleChecker}}), 10)
		must(t, err)
		if len(mine) != 1 || mine[0].Title != "月底核销" {
			t.Fatalf("the checker's messages: %+v", mine)
		}
		// P01 reports it has read the notice (and one id that is no message).
		must(t, s.ReportStatus(ctx, "P01", wire.StationStatus{Version: "t", Read: []wire.ReadReceipt{{ID: toP01.ID, At: time.Now()}, {ID: "forged", At: time.Now()}}}, 0))
		sent, err := s.SentMessages(admin, 10)
		must(t, err)
		for _, m := range sent {
			if m.ID == toP01.ID && (strings.Join(m.Targets, ",") != "P01" || strings.Join(m.ReadBy, ",") != "P01") {
				t.Fatalf("receipts of the notice to P01: targets %v, read by %v", m.Targets, m.ReadBy)
			}
			if m.Role == server.RoleChecker && (m.ToDesks() || len(m.Targets) != 0) {
				t.Fatalf("a checker's message counted as sent to desks: %+v", m)
			}
		}
	})
}

// TestReminders: stock below its alert, a station's rejected bills, a
// station silent too long and a certificate near its end each send one
// message a day.
func TestReminders(t *testing.T) {
	forEachClockStore(t, time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC), func(t *testing.T, s *server.Store, c *clock) {
		ctx := context.Background()
		admin := asUser(&server.User{Login: "wang", Roles: []string{server.RoleBillAdmin}})
		setupUnit(t, s)
		must(t, s.AddPoint(ctx, "P01", "一号窗口", server.PointStation))
		enrollStation(t, s, "P01")
		must(t, s.SetStockAlert(admin, server.StockAlert{Kind: server.StockEInvoice, Code: outCode, MinLeft: 200000}))
		must(t, s.ReportStatus(ctx, "P01", wire.StationStatus{Rejected: 2}, 0))
		r := server.Reminders{SilentAfter: 4 * time.Hour, CertWarn: 30 * 24 * time.Hour,
			CertExpiry: func() (time.Time, bool) { return c.t.Add(10 * 24 * time.Hour), true }}
		n, err := s.SendReminders(ctx, r)
		must(t, err)
		if n != 3 { // stock, rejected, certificate
			t.Fatalf("%d reminders, want 3", n)
		}
		if n, _ := s.SendReminders(ctx, r); n != 0 {
			t.Fatalf("%d reminders again the same day", n)
		}
		c.t = c.t.Add(24 * time.Hour) // the next day, P01 silent for a day
		n, err = s.SendReminders(ctx, r)
		must(t, err)
		if n != 4 {
			t.Fatalf("%d reminders the next day, want 4", n)
		}
		mine, err := s.MyMessages(asUser(&server.User{Login: "sys", Roles: []string{server.RoleSysAdmin}}), 10)
		must(t, err)
		if len(mine) != 2 || !strings.Contains(mine[0].Title, "证书") {
			t.Fatalf("the system administrator's messages: %+v", mine)
		}
	})
}
