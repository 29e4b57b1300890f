package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// pgCluster is a PostgreSQL primary with a synchronous streaming standby,
// made for one test (platform.md): initdb as the postgres user, free
// ports, pg_basebackup -R.
type pgCluster struct {
	t                *testing.T
	root             string
	primary, standby string // data directories
	p1, p2           int
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (c *pgCluster) pg(args string) {
	c.t.Helper()
	out, err := exec.Command("su", "postgres", "-c", args).CombinedOutput()
	if err != nil {
		c.t.Fatalf("%s: %v\n%s", args, err, out)
	}
}

func newPGCluster(t *testing.T) *pgCluster {
	if os.Geteuid() != 0 {
		t.Skip("the failover test runs PostgreSQL servers as the postgres user: needs root")
	}
	for _, tool := range []string{"initdb", "pg_ctl", "pg_basebackup", "su"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	root, err := os.MkdirTemp("", "ebill-pg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(root, 0o755)
	if out, err := exec.Command("chown", "postgres", root).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	c := &pgCluster{t: t, root: root, primary: filepath.Join(root, "primary"), standby: filepath.Join(root, "standby"), p1: freePort(t), p2: freePort(t)}
	t.Cleanup(func() {
		exec.Command("su", "postgres", "-c", "pg_ctl -D "+c.standby+" -m immediate stop").Run()
		exec.Command("su", "postgres", "-c", "pg_ctl -D "+c.primary+" -m immediate stop").Run()
		os.RemoveAll(root)
	})
	c.pg("initdb -D " + c.primary + " -A trust -U postgres --no-sync >/dev/null")
	conf := fmt.Sprintf("\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nwal_level = replica\n"+
		"max_wal_senders = 5\nsynchronous_standby_names = '*'\nsynchronous_commit = on\nfsync = on\n", c.p1, root)
	c.appendConf(c.primary, conf)
	// A started server keeps its parent's output open: all of it to /dev/null.
	c.pg("pg_ctl -D " + c.primary + " -l " + filepath.Join(root, "primary.log") + " -w start </dev/null >/dev/null 2>&1")
	c.pg(fmt.Sprintf("pg_basebackup -h 127.0.0.1 -p %d -U postgres -D %s -R -X stream", c.p1, c.standby))
	// Promoted, the standby has no standby of its own: it must not wait
	// for one (pg_basebackup copied the primary's setting).
	c.appendConf(c.standby, fmt.Sprintf("\nport = %d\nsynchronous_standby_names = ''\n", c.p2))
	c.pg("pg_ctl -D " + c.standby + " -l " + filepath.Join(root, "standby.log") + " -w start </dev/null >/dev/null 2>&1")
	// The primary waits for the standby to flush each commit: an
	// acknowledged bill is on both.
	db, err := sql.Open("pgx", c.dsn("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := 0; ; i++ {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM pg_stat_replication WHERE sync_state = 'sync'").Scan(&n); err == nil && n == 1 {
			break
		}
		if i == 100 {
			t.Fatal("the standby does not stream synchronously")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := db.Exec("CREATE DATABASE ebill"); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *pgCluster) appendConf(dir, text string) {
	c.t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "postgresql.auto.conf"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		c.t.Fatal(err)
	}
}

// dsn names both servers: a new connection goes to the one that takes
// writes, so the ledger follows a promotion without being told.
func (c *pgCluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/%s?sslmode=disable&target_session_attrs=read-write&connect_timeout=2", c.p1, c.p2, db)
}

// hisCallMsg is one HIS call of invoiceEBillOutpatient; it returns the
// result code, the bill number and the message, or an error when there
// was no answer.
func hisCallMsg(client *http.Client, addr string, settlement map[string]any, noise string) (string, string, string, error) {
	raw, _ := json.Marshal(settlement)
	resp, err := client.Post("https://"+addr+"/medical-web/api/medical/invoiceEBillOutpatient", "application/json", bytes.NewReader(hisEnvelope(raw, noise)))
	if err != nil {
		return "", "", "", err
	}
	defer resp.Body.Close()
	var env struct{ Data string }
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return "", "", "", err
	}
	dec, _ := base64.StdEncoding.DecodeString(env.Data)
	var res struct{ Result, Message string }
	json.Unmarshal(dec, &res)
	msg, _ := base64.StdEncoding.DecodeString(res.Message)
	var m map[string]any
	json.Unmarshal(msg, &m)
	no, _ := m["billNo"].(string)
	return res.Result, no, string(msg), nil
}

// TestStandbyFailover (issue 20): the ledger on a PostgreSQL primary with
// a synchronous standby; HIS calls and a station's issuing and uploads go
// on while the primary crashes and the standby is promoted. The server
// reconnects by itself; HIS callers get a clear error meanwhile and their
// retries (same busNo) succeed; the station keeps issuing; no acknowledged
// bill is lost and none is doubled. It logs the measured RTO and RPO.
func TestStandbyFailover(t *testing.T) {
	if os.Getenv("EBILL_TEST_PG") == "" {
		t.Skip("EBILL_TEST_PG not set: PostgreSQL tests are off")
	}
	c := newPGCluster(t)
	// A site on the cluster, with a server point H01 and the HIS app HIS01
	// beside the station P01.
	s := prepareSiteOn(t, 50, false, nil, c.dsn("ebill"))
	ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
	store, err := server.OpenStore(ctx, s.dsn, s.srvData)
	mustDo(t, err)
	mustDo(t, store.SetUnit(ctx, server.Unit{Name: "厦门市某区医院", CreditCode: "123502004266001233"}))
	mustDo(t, store.SetBillKind(ctx, bill.Outpatient, "35060126"))
	mustDo(t, store.AddPoint(ctx, "H01", "HIS门诊开票", server.PointServer))
	mustDo(t, store.AddHISApp(ctx, server.HISApp{AppID: "HIS01", Points: []string{"H01"}}, "his-vendor-secret-key"))
	store.Close()
	s.enroll()
	srvLog := &s.log

	// The HIS: one caller after another, each retrying its busNo until
	// it gets an answer of S0000.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	var (
		mu        sync.Mutex
		acked     = map[string]string{} // busNo → bill number
		failures  atomic.Int64
		failMsgs  = map[string]int{}
		failedAt  time.Time // the primary stopped
		recovered time.Time // the first bill of a call made after that
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		raw, _ := os.ReadFile("../../examples/outpatient.json")
		for i := 0; ; i++ {
			bus := fmt.Sprintf("FO-%05d", i)
			var set map[string]any
			json.Unmarshal(raw, &set)
			set["busNo"], set["placeCode"] = bus, "H01"
			for attempt := 0; ; attempt++ {
				select {
				case <-stop:
					return
				default:
				}
				started := time.Now()
				result, no, msg, err := hisCallMsg(client, s.addr, set, fmt.Sprintf("%017d%03d", time.Now().UnixNano()/1000, attempt))
				if err == nil && result == "S0000" {
					mu.Lock()
					acked[bus] = no
					if !failedAt.IsZero() && started.After(failedAt) && recovered.IsZero() {
						recovered = time.Now()
					}
					mu.Unlock()
					break
				}
				failures.Add(1)
				mu.Lock()
				if err != nil {
					msg = err.Error()
				}
				failMsgs[result+" "+msg]++
				mu.Unlock()
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	// The station: issues all the time, syncs every few bills.
	var issued atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if n, _ := s.issue(2, fmt.Sprintf("ST%d-", i)); n > 0 {
				issued.Add(int64(n))
			}
			s.ebillErr("sync", "once")
		}
	}()

	time.Sleep(3 * time.Second)
	// The primary's machine dies; the standby is promoted.
	c.pg("pg_ctl -D " + c.primary + " -m immediate stop >/dev/null")
	mu.Lock()
	failedAt = time.Now()
	before := len(acked)
	mu.Unlock()
	c.pg("pg_ctl -D " + c.standby + " -w promote </dev/null >/dev/null 2>&1")
	promoted := time.Now()
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		done := !recovered.IsZero() && len(acked) > before+20
		if os.Getenv("EBILL_FAILOVER_DEBUG") != "" && time.Since(promoted)%(2*time.Second) < 100*time.Millisecond {
			t.Logf("acked %d (before %d), failures %d %v, issued %d", len(acked), before, failures.Load(), failMsgs, issued.Load())
		}
		mu.Unlock()
		if done {
			break
		}
	}
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if recovered.IsZero() {
		t.Fatalf("HIS calls never succeeded again after the promotion; server log:\n%s", srvLog.String())
	}
	// The station uploads the rest.
	for i := 0; i < 20 && s.pending() > 0; i++ {
		s.ebillErr("sync", "once")
	}
	if p := s.pending(); p != 0 {
		t.Fatalf("%d station bills still pending", p)
	}

	// Nothing acknowledged is lost, nothing doubled: the promoted standby
	// holds every HIS bill answered S0000, with its number, and every
	// station bill.
	store, err = server.OpenStore(ctx, c.dsn("ebill"), s.srvData)
	mustDo(t, err)
	defer store.Close()
	lost := 0
	for bus, no := range acked {
		var got string
		var n int64
		err := store.DB().QueryRow("SELECT bill_no FROM bills WHERE point_code = 'H01' AND bus_no = $1", bus).Scan(&n)
		if err == nil {
			got = bill.FormatBillNo(n)
		}
		if got != no {
			lost++
			t.Errorf("HIS bill %s (answered %s) is %q in the ledger", bus, no, got)
		}
	}
	var station, his int
	mustDo(t, store.DB().QueryRow("SELECT COUNT(*) FROM bills WHERE point_code = 'P01'").Scan(&station))
	mustDo(t, store.DB().QueryRow("SELECT COUNT(*) FROM bills WHERE point_code = 'H01'").Scan(&his))
	if int64(station) != issued.Load() || his < len(acked) {
		t.Fatalf("ledger: %d station bills of %d issued, %d HIS bills for %d answered", station, issued.Load(), his, len(acked))
	}
	rep, err := store.VerifyLedger(ctx)
	mustDo(t, err)
	if !rep.OK() {
		t.Fatalf("verify after the failover: %+v", rep.Problems)
	}
	if os.Getenv("EBILL_FAILOVER_DEBUG") != "" {
		for _, l := range strings.Split(srvLog.String(), "\n") {
			if strings.Contains(l, "E9999") || strings.Contains(l, "ERROR") {
				t.Log(l)
			}
		}
	}
	t.Logf("failover: RTO %s (primary stopped to the first HIS bill issued on the promoted standby; promotion took %s); "+
		"RPO: %d of %d acknowledged HIS bills lost, %d of %d station bills; %d HIS attempts failed meanwhile: %v",
		recovered.Sub(failedAt).Round(10*time.Millisecond), promoted.Sub(failedAt).Round(10*time.Millisecond),
		lost, len(acked), int(issued.Load())-station, issued.Load(), failures.Load(), failMsgs)
}
