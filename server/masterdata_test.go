package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ebill/ebill/server"
	ebsync "github.com/ebill/ebill/sync"
)

func TestPinyinInitials(t *testing.T) {
	for in, want := range map[string]string{"青霉素片": "qmsp", "阿莫西林胶囊0.25g": "amxljn025g", "血常规（五分类）": "xcgwfl", "B超": "bc"} {
		if got := server.PinyinInitials(in); got != want {
			t.Errorf("PinyinInitials(%q) = %q, want %q", in, got, want)
		}
	}
}

const itemsCSV = `code,name,category,unit,spec,price,class
XJ01CEQ001,青霉素片,09,片,0.25g*24,0.4583,甲
250101015,血常规,04,项,,35.00,甲
110200001,普通门诊诊察费,02,次,,20,甲
`

func TestMasterDataReachesTheStation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:test", From: "local", System: true})
		setupUnit(t, s)
		if _, err := s.ImportChargeItems(ctx, strings.NewReader(strings.Replace(itemsCSV, "35.00", "35.00001", 1))); err == nil ||
			!strings.Contains(err.Error(), "第 3 行价格") {
			t.Fatalf("bad price: %v", err)
		}
		n, err := s.ImportChargeItems(ctx, strings.NewReader(itemsCSV))
		if err != nil || n != 3 {
			t.Fatalf("import: %d %v", n, err)
		}
		must(t, s.AddUser(ctx, server.User{Login: "lin", Name: "林小燕", Roles: []string{server.RoleCashier}}, "Correct#Horse7"))
		must(t, s.PostMessage(ctx, "", "系统通知", "今晚 22:00 维护"))
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		st := enrollStation(t, s, "P01")
		// enrollStation applies the settings and segments by hand; apply the master data as the sync client does.
		md, err := s.MasterDataSince(ctx, "P01", 0)
		must(t, err)
		must(t, st.ApplyMasterData(ctx, ebsync.LocalMasterData(md)))
		found, err := st.SearchChargeItems(ctx, "qmsp", 10)
		must(t, err)
		if len(found) != 1 || found[0].Name != "青霉素片" || found[0].Price != 4583 || found[0].CategoryCode != "09" {
			t.Fatalf("search qmsp: %+v", found)
		}
		if found, _ := st.SearchChargeItems(ctx, "血", 10); len(found) != 1 || found[0].Code != "250101015" {
			t.Fatalf("search by name: %+v", found)
		}
		if found, _ := st.SearchChargeItems(ctx, "1102", 10); len(found) != 1 || found[0].Code != "110200001" {
			t.Fatalf("search by code: %+v", found)
		}
		pcs, _ := st.PayChannels(ctx)
		if len(pcs) != 10 || pcs[1].Name != "现金" {
			t.Fatalf("pay channels %+v", pcs)
		}
		u, err := st.OfflineUserByLogin(ctx, "lin")
		if err != nil || u.Name != "林小燕" || !strings.HasPrefix(u.PasswordHash, "$2") {
			t.Fatalf("offline user %+v %v", u, err)
		}
		msgs, _ := st.Messages(ctx)
		if len(msgs) != 1 || msgs[0].Title != "系统通知" {
			t.Fatalf("messages %+v", msgs)
		}
		// Only changes travel: after a new price, a pull since the station's version carries one item.
		v, _ := st.MasterVersion(ctx)
		if v != md.Version || v == 0 {
			t.Fatalf("station master version %d, server %d", v, md.Version)
		}
		_, err = s.ImportChargeItems(ctx, strings.NewReader("code,name,category,unit,spec,price,class\n250101015,血常规,04,项,,36.00,甲\n"))
		must(t, err)
		md2, err := s.MasterDataSince(ctx, "P01", v)
		must(t, err)
		if len(md2.ChargeItems) != 1 || md2.ChargeItems[0].Price != 360000 || len(md2.Users) != 0 || len(md2.PayChannels) != 0 || len(md2.Messages) != 0 {
			t.Fatalf("delta %+v", md2)
		}
	})
}
