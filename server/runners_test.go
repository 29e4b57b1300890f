package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// TestHealthPushRunner: started after 01:00, the runner sends yesterday's
// report once (accepted: not again); Stop ends it at once, mid-wait.
func TestHealthPushRunner(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 18, 30, 0, 0, time.UTC)} // 02:30 Beijing, December 2nd
	s := clockStore(t, c)
	setupUnit(t, s)
	var posts atomic.Int32
	got := make(chan struct{}, 10)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		got <- struct{}{}
		w.WriteHeader(http.StatusOK)
	}))
	defer ts.Close()
	r := s.HealthPush(ts.URL, 20*time.Millisecond)
	must(t, r.Start(context.Background()))
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no report pushed")
	}
	time.Sleep(100 * time.Millisecond) // several more rounds: the accepted day is not sent again
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	must(t, r.Stop(ctx))
	if time.Since(start) > 500*time.Millisecond {
		t.Errorf("Stop took %s", time.Since(start))
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("%d pushes, want 1", n)
	}
	if err := s.HealthPush("", time.Minute).Start(context.Background()); err == nil {
		t.Error("a push without an address started")
	}
}

// TestIssuersRunnerStops: stopping the issuers while bills are queued
// leaves no caller waiting, and every bill answered as issued is stored.
func TestIssuersRunnerStops(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, _, _, _ := hisServer(t, s)
		raw, err := os.ReadFile("../examples/outpatient.json")
		must(t, err)
		const n = 40
		done := make(chan error, n)
		for i := 0; i < n; i++ {
			go func(i int) {
				st, err := bill.ParseSettlement(raw)
				if err != nil {
					done <- err
					return
				}
				st.BusNo, st.PlaceCode = bill.Text(fmt.Sprintf("STOP-%02d", i)), "H01"
				_, err = s.IssueAt(ctx, "H01", bill.Outpatient, st)
				done <- err
			}(i)
		}
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		must(t, s.Issuers().Stop(stop))
		issued := 0
		for i := 0; i < n; i++ {
			select {
			case err := <-done:
				if err == nil {
					issued++
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("a caller still waits after the issuers stopped (%d answered)", i)
			}
		}
		stored, _, err := s.CountLedger(ctx, server.LedgerFilter{})
		must(t, err)
		if stored != issued {
			t.Fatalf("%d bills answered as issued, %d stored", issued, stored)
		}
	})
}

// TestDormantAccounts (IA-1): an account unused for 90 days is disabled by
// the daily job — one signed in, or whose token was used, within them is not.
func TestDormantAccounts(t *testing.T) {
	forEachClockStore(t, time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC), func(t *testing.T, s *server.Store, c *clock) {
		for _, l := range []string{"idle", "busy", "svc"} {
			must(t, s.AddUser(sysCtx(), server.User{Login: l, Name: l, Roles: []string{server.RoleCashier}}, "Tmp#Pass2026x"))
		}
		sec := asUser(&server.User{Login: "sec", Roles: []string{server.RoleSecAdmin}})
		token, _, err := s.IssueAPIToken(sec, "svc", "测试", 300*24*time.Hour)
		must(t, err)
		c.t = c.t.Add(60 * 24 * time.Hour)
		_, err = s.Login(context.Background(), "busy", "Tmp#Pass2026x")
		must(t, err)
		_, _, err = s.TokenUser(context.Background(), token)
		must(t, err)
		c.t = c.t.Add(31 * 24 * time.Hour) // idle: 91 days; busy and svc: 31
		off, err := s.DisableDormant(context.Background())
		must(t, err)
		if len(off) != 1 || off[0] != "idle" {
			t.Fatalf("disabled %v, want idle only", off)
		}
		if _, err := s.Login(context.Background(), "idle", "Tmp#Pass2026x"); err == nil {
			t.Fatal("a dormant account signed in")
		}
		// Enabled again, it is not disabled the next day.
		must(t, s.SetDisabled(asUser(&server.User{Login: "sys", Roles: []string{server.RoleSysAdmin}}), "idle", false))
		c.t = c.t.Add(24 * time.Hour)
		if off, err := s.DisableDormant(context.Background()); err != nil || len(off) != 0 {
			t.Fatalf("the day after enabling: %v %v", off, err)
		}
	})
}
