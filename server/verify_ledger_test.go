package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ebill/ebill/server"
)

// TestVerifyLedger (issue 20): a sound ledger verifies; each kind of
// damage someone with database access could do is reported, naming the
// bill or segment, on SQLite and PostgreSQL.
func TestVerifyLedger(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
		setupUnit(t, s)
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		st := enrollStation(t, s, "P01")
		for i := 0; i < 4; i++ {
			st.issue(t, "outpatient.json", "V-"+string(rune('A'+i)))
		}
		_, err := st.Reverse(ctx, outCode, 1, "退费", "林小燕")
		must(t, err)
		res, err := s.Upload(ctx, "P01", st.pending(t))
		must(t, err)
		if statuses(res) != "stored,stored,stored,stored,stored" {
			t.Fatalf("upload: %s", statuses(res))
		}
		rep, err := s.VerifyLedger(ctx)
		must(t, err)
		if !rep.OK() || rep.Bills != 5 || rep.Chains != 1 || rep.Unchecked != 0 || rep.AuditRecords == 0 {
			t.Fatalf("a sound ledger: %+v", rep)
		}
		exec := func(q string) {
			t.Helper()
			if s.Dialect() == server.Postgres {
				q = strings.ReplaceAll(q, "?", "$1")
			}
			_, err := s.DB().Exec(q)
			must(t, err)
		}
		expect := func(want ...string) {
			t.Helper()
			rep, err := s.VerifyLedger(ctx)
			must(t, err)
			var got []string
			for _, p := range rep.Problems {
				got = append(got, p.Where+"："+p.Message)
			}
			all := strings.Join(got, "\n")
			for _, w := range want {
				if !strings.Contains(all, w) {
					t.Fatalf("want %q among the problems:\n%s", w, all)
				}
			}
		}
		exec("UPDATE bills SET total = 1 WHERE bill_no = 2")
		expect("票据 35060126 0000000002：金额与签名内容不符")
		exec("UPDATE bills SET total = 12345 WHERE bill_no = 2")
		exec("DELETE FROM bills WHERE bill_no = 3")
		expect("链序号应为 3，实际为 4", "链接断开")
		exec("INSERT INTO segments (id, point_code, epoch, bill_code, start_no, end_no, stock_id, request_id, allocated_at) " +
			"SELECT 'x', point_code, epoch, bill_code, start_no + 1, start_no + 5, stock_id, 'forged', allocated_at FROM segments LIMIT 1")
		expect("重叠：同一号码分给了两处")
	})
}
