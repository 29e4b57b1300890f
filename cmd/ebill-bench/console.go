package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
	"github.com/ebill/ebill/server/web"
)

// The console at scale (issue 16): a ledger of n bills over one year and
// 50 billing points, filled by a generator, then the console's query pages
// measured through their real HTTP handlers, each beside a baseline in the
// same run — the same rows read by one plain SQL statement.

const consolePoints = 50

// benchConsole fills a ledger on each target and measures it.
func benchConsole(n int, dir, pgDSN string, sqliteToo bool) error {
	fmt.Printf("ebill bench: management console queries over %d bills, one year, %d billing points\n", n, consolePoints)
	type target struct{ name, dsn string }
	var targets []target
	if pgDSN != "" {
		targets = append(targets, target{"postgres", pgDSN})
	}
	if sqliteToo || pgDSN == "" {
		targets = append(targets, target{"sqlite", ""})
	}
	for _, tg := range targets {
		if err := consoleCase(n, dir+"/console-"+tg.name, tg.name, tg.dsn); err != nil {
			return err
		}
	}
	return nil
}

func consoleCase(n int, dir, name, dsn string) error {
	ctx := context.Background()
	dsn, cleanup, err := freshSchema(dsn)
	if err != nil {
		return err
	}
	defer cleanup()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := server.OpenStore(ctx, dsn, dir, server.WithStoreLogger(quiet))
	if err != nil {
		return err
	}
	defer store.Close()
	t0 := time.Now()
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, bill.Beijing)
	if err := generateLedger(ctx, store, n, end); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	fmt.Printf("\n%s: %d bills generated and indexed in %.0f s\n", name, n, time.Since(t0).Seconds())

	h := api.New(store, quiet)
	web.Mount(h, store)
	ts := httptest.NewServer(h)
	defer ts.Close()
	cookie, err := benchSession(ctx, store)
	if err != nil {
		return err
	}
	get := func(path string) (int, time.Duration, error) {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: web.CookieName, Value: cookie})
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, 0, err
		}
		nb, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, 0, fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		return int(nb), time.Since(start), nil
	}
	db := store.DB()
	rebind := func(q string) string {
		if store.Dialect() != server.Postgres {
			return q
		}
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
		return q
	}
	raw := func(q string, args ...any) func() error {
		return func() error {
			rows, err := db.QueryContext(ctx, rebind(q), args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			for i := range vals {
				vals[i] = new(any)
			}
			for rows.Next() {
				if err := rows.Scan(vals...); err != nil {
					return err
				}
			}
			return rows.Err()
		}
	}
	// A cursor half-way down the ledger, and one half-way down a point's.
	var deepAt int64
	var deepID string
	if err := db.QueryRowContext(ctx, rebind("SELECT issued_at, id FROM bills ORDER BY issued_at DESC, id DESC LIMIT 1 OFFSET ?"), n/2).Scan(&deepAt, &deepID); err != nil {
		return err
	}
	var pAt int64
	var pID string
	if err := db.QueryRowContext(ctx, rebind("SELECT issued_at, id FROM bills WHERE point_code = 'P17' ORDER BY issued_at DESC, id DESC LIMIT 1 OFFSET ?"), n/consolePoints/2).
		Scan(&pAt, &pID); err != nil {
		return err
	}
	var payer string
	if err := db.QueryRowContext(ctx, "SELECT payer FROM bills WHERE point_code = 'P03' LIMIT 1").Scan(&payer); err != nil {
		return err
	}
	const listCols = "SELECT id, point_code, seq, bill_code, bill_no, check_code, kind, payer, total, issued_at FROM bills"
	cases := []struct {
		name, path string
		limit      time.Duration
		baseline   func() error
	}{
		{"开票明细 first page", "/admin/bills", 50 * time.Millisecond,
			raw(listCols + " ORDER BY issued_at DESC, id DESC LIMIT 51")},
		{"开票明细 month + point", "/admin/bills?from=2026-06-01&to=2026-06-30&point=P17", 50 * time.Millisecond,
			raw(listCols+" WHERE point_code = ? AND issued_at >= ? AND issued_at < ? ORDER BY issued_at DESC, id DESC LIMIT 51", "P17",
				time.Date(2026, 6, 1, 0, 0, 0, 0, bill.Beijing).UnixMilli(), time.Date(2026, 7, 1, 0, 0, 0, 0, bill.Beijing).UnixMilli())},
		{"开票明细 payer", "/admin/bills?payer=" + url.QueryEscape(payer), 50 * time.Millisecond,
			raw(listCols+" WHERE payer = ? ORDER BY issued_at DESC, id DESC LIMIT 51", payer)},
		{fmt.Sprintf("开票明细 a page %d rows deep", n/2), "/admin/bills?after=" + strconv.FormatInt(deepAt, 10) + "_" + deepID, 50 * time.Millisecond,
			raw(listCols+" WHERE (issued_at, id) < (?, ?) ORDER BY issued_at DESC, id DESC LIMIT 51", deepAt, deepID)},
		{"开票明细 deep in a point", "/admin/bills?point=P17&after=" + strconv.FormatInt(pAt, 10) + "_" + pID, 50 * time.Millisecond,
			raw(listCols+" WHERE point_code = ? AND (issued_at, id) < (?, ?) ORDER BY issued_at DESC, id DESC LIMIT 51", "P17", pAt, pID)},
		{"号码生命周期", "", 20 * time.Millisecond, nil},
		{"峰值走势 a year by day", "/admin/trend?by=day&from=2025-12-01&to=2026-11-30", 500 * time.Millisecond,
			raw("SELECT issued_at / 86400000, COUNT(*), SUM(total) FROM bills WHERE issued_at >= ? AND issued_at < ? GROUP BY issued_at / 86400000",
				time.Date(2025, 12, 1, 0, 0, 0, 0, bill.Beijing).UnixMilli(), end.UnixMilli())},
		{"峰值走势 a month by hour, one point", "/admin/trend?by=hour&from=2026-11-01&to=2026-11-30&point=P17", 300 * time.Millisecond,
			raw("SELECT issued_at / 3600000, COUNT(*), SUM(total) FROM bills WHERE point_code = 'P17' AND issued_at >= ? AND issued_at < ? GROUP BY issued_at / 3600000",
				time.Date(2026, 11, 1, 0, 0, 0, 0, bill.Beijing).UnixMilli(), end.UnixMilli())},
		{"开票汇总 a month (point×kind×channel)", "/admin/summary?from=2026-11-01&to=2026-11-30&by=month&point-split=1&kind-split=1&channel-split=1",
			500 * time.Millisecond, raw("SELECT point_code, kind, pay_channel, COUNT(*), SUM(total) FROM bills WHERE issued_at >= ? AND issued_at < ? GROUP BY point_code, kind, pay_channel",
				time.Date(2026, 11, 1, 0, 0, 0, 0, bill.Beijing).UnixMilli(), end.UnixMilli())},
	}
	fmt.Printf("%-40s %9s %9s %9s %12s %8s\n", "case (through the HTTP handlers)", "p50 ms", "p95 ms", "limit ms", "baseline p95", "")
	for _, c := range cases {
		var lat, base []time.Duration
		for i := 0; i < 40; i++ {
			path := c.path
			if c.path == "" { // a random number's life each time
				path = fmt.Sprintf("/admin/numbers?kind=einvoice&code=35060126&no=%d", 1+rand.IntN(n/2))
			}
			_, d, err := get(path)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			lat = append(lat, d)
			if c.baseline != nil {
				s := time.Now()
				if err := c.baseline(); err != nil {
					return fmt.Errorf("%s baseline: %w", c.name, err)
				}
				base = append(base, time.Since(s))
			}
		}
		b := "—"
		if len(base) > 0 {
			b = ms(pct(base, 0.95))
		}
		verdict := "ok"
		if pct(lat, 0.95) > c.limit {
			verdict = "OVER"
		}
		fmt.Printf("%-40s %9s %9s %9s %12s %8s\n", c.name, ms(pct(lat, 0.5)), ms(pct(lat, 0.95)), ms(c.limit), b, verdict)
	}

	// The e-bill write-off declarations of the busiest code: October, the
	// first (both ends computed from the whole ledger), sent and approved;
	// then November, which starts from October's closing and reads only its
	// own month — the cost of every later month. Beside each, a plain count
	// and sum of the same bills.
	maker := server.WithActor(ctx, server.Actor{Who: "bench-maker", System: true})
	checker := server.WithActor(ctx, server.Actor{Who: "bench-checker", System: true})
	octFrom, novFrom := time.Date(2026, 10, 1, 0, 0, 0, 0, bill.Beijing), time.Date(2026, 11, 1, 0, 0, 0, 0, bill.Beijing)
	for _, m := range []struct {
		name     string
		from, to time.Time
	}{{"核销申报 first (October), one code", octFrom, novFrom}, {"核销申报 next (November), one code", novFrom, end}} {
		s0 := time.Now()
		wo, err := store.DraftWriteOff(maker, server.WriteOffInput{Kind: server.StockEInvoice, Code: "35060126", From: m.from, To: m.to})
		if err != nil {
			return fmt.Errorf("write-off: %w", err)
		}
		took := time.Since(s0)
		s0 = time.Now()
		if err := raw("SELECT COUNT(*), SUM(total) FROM bills WHERE bill_code = '35060126' AND issued_at >= ? AND issued_at < ?",
			m.from.UnixMilli(), m.to.UnixMilli())(); err != nil {
			return err
		}
		verdict, note := "ok", "checks hold"
		if len(wo.Figures.Problems) > 0 {
			verdict, note = "OVER", strings.Join(wo.Figures.Problems, "; ")
		}
		if took > 30*time.Second {
			verdict = "OVER"
		}
		fmt.Printf("%-40s %9s %9s %9s %12s %8s  (%d numbers used; %s)\n", m.name+" (store)", ms(took), "", ms(30*time.Second),
			ms(time.Since(s0)), verdict, wo.Figures.Used, note)
		if _, err := store.SubmitWriteOff(maker, wo.ID); err != nil {
			return fmt.Errorf("write-off submit: %w", err)
		}
		if _, err := store.DecideWriteOff(checker, wo.ID, true, ""); err != nil {
			return fmt.Errorf("write-off approve: %w", err)
		}
	}

	// The export: P01's year, about n/50 rows, streamed; the process's
	// resident memory sampled throughout, beside a plain read of the rows.
	debug.FreeOSMemory()
	var peak atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			if r := rssBytes(); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	base := rssBytes()
	nb, d, err := get("/admin/bills/export?point=P01")
	close(stop)
	if err != nil {
		return err
	}
	var rows int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM bills WHERE point_code = 'P01'").Scan(&rows); err != nil {
		return err
	}
	s := time.Now()
	if err := raw(listCols + " WHERE point_code = 'P01' ORDER BY issued_at DESC, id DESC")(); err != nil {
		return err
	}
	fmt.Printf("%-40s %9s rows, %.1f s (plain read %.1f s), %.1f MB file, resident memory %d MB before, %d MB peak (limit 200 MB)\n",
		"Excel export of one point's year", strconv.Itoa(rows), d.Seconds(), time.Since(s).Seconds(), float64(nb)/1e6, base>>20, peak.Load()>>20)
	return nil
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}

func pct(l []time.Duration, p float64) time.Duration { return result{latencies: l}.pct(p) }

// rssBytes is the process's resident set now (Linux).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// benchSession signs a report reader in and returns the session cookie.
func benchSession(ctx context.Context, store *server.Store) (string, error) {
	sys := server.WithActor(ctx, server.Actor{Who: "bench", System: true})
	const pw = "Bench#Reader2026"
	if err := store.AddUser(sys, server.User{Login: "zhaocw", Name: "报表查询", Roles: []string{server.RoleFinance}}, pw); err != nil {
		return "", err
	}
	sess, err := store.Login(ctx, "zhaocw", pw)
	if err != nil {
		return "", err
	}
	sess, err = store.ChangePassword(ctx, sess.Token, pw, "Bench#Reader2027")
	if err != nil {
		return "", err
	}
	if sess.Stage != server.StageFull {
		return "", fmt.Errorf("the report reader's session is at %s", sess.Stage)
	}
	return sess.Token, nil
}

// generateLedger writes n bills over the year before end, spread over 50
// points and the day's hours as a hospital's are (mornings busiest), with
// 1% red bills, their segments, stock and hourly figures; then indexes
// statistics are refreshed.
func generateLedger(ctx context.Context, store *server.Store, n int, end time.Time) error {
	sys := server.WithActor(ctx, server.Actor{Who: "bench", System: true})
	if err := store.SetUnit(sys, server.Unit{Name: "厦门市某区医院", CreditCode: "123502004266001233"}); err != nil {
		return err
	}
	for p := 1; p <= consolePoints; p++ {
		if err := store.AddPoint(sys, fmt.Sprintf("P%02d", p), fmt.Sprintf("收费窗口 %d", p), server.PointStation); err != nil {
			return err
		}
	}
	codes := map[bill.Kind]string{bill.Outpatient: "35060126", bill.Registration: "35060126", bill.Exam: "35060126", bill.Inpatient: "35060226"}
	for _, c := range []string{"35060126", "35060226"} {
		if _, err := store.ReceiveStock(sys, server.StockEInvoice, bill.Segment{Code: c, Start: 1, End: 99_999_999}); err != nil {
			return err
		}
	}
	// The stock was received before the year the ledger spans (the
	// write-off declarations count what was held when).
	q := "UPDATE stock SET received_at = ?"
	if store.Dialect() == server.Postgres {
		q = "UPDATE stock SET received_at = $1"
	}
	if _, err := store.DB().ExecContext(ctx, q, end.AddDate(-1, 0, -1).UnixMilli()); err != nil {
		return err
	}
	kinds := []bill.Kind{bill.Outpatient, bill.Outpatient, bill.Outpatient, bill.Registration, bill.Exam, bill.Inpatient}
	channels := []string{"02", "04", "11", "05"}
	surnames := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
	given := []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉")
	hourWeight := []int{0, 0, 0, 0, 0, 0, 1, 4, 10, 12, 11, 8, 4, 6, 9, 9, 7, 4, 2, 2, 1, 1, 0, 0}
	var hours []int
	for h, w := range hourWeight {
		for range w {
			hours = append(hours, h)
		}
	}
	start := end.AddDate(-1, 0, 0)
	days := int(end.Sub(start).Hours() / 24)
	rng := rand.New(rand.NewPCG(1, 2))
	type seg struct{ next, end int64 }
	segs := map[[2]string]*seg{} // point, code → the current segment
	nextNo := map[string]int64{"35060126": 1, "35060226": 1}
	seqs := make([]int64, consolePoints+1)
	lastBlue := make([]string, consolePoints+1)
	lastBlueTotal := make([]int64, consolePoints+1)
	var segRows [][]any
	stats := map[[5]string][2]int64{}
	w, err := newBillWriter(ctx, store)
	if err != nil {
		return err
	}
	// A bulk load: the secondary indexes are dropped first and built after,
	// as a restore does (kept up row by row, they made 5,000,000 rows take
	// most of an hour).
	indexes, err := w.dropIndexes()
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		p := 1 + rng.IntN(consolePoints)
		point := fmt.Sprintf("P%02d", p)
		kind := kinds[rng.IntN(len(kinds))]
		code := codes[kind]
		day := start.AddDate(0, 0, i*days/n) // days in order, as a ledger grows
		at := day.Add(time.Duration(hours[rng.IntN(len(hours))])*time.Hour + time.Duration(rng.IntN(3_600_000))*time.Millisecond)
		k := [2]string{point, code}
		sg := segs[k]
		if sg == nil || sg.next > sg.end {
			sg = &seg{next: nextNo[code], end: nextNo[code] + 999}
			nextNo[code] += 1000
			segs[k] = sg
			segRows = append(segRows, []any{fmt.Sprintf("seg-%s-%s-%d", point, code, sg.next), point, int64(1), code, sg.next, sg.end,
				fmt.Sprintf("req-%d", len(segRows)), at.UnixMilli()})
		}
		no := sg.next
		sg.next++
		seqs[p]++
		id := fmt.Sprintf("%013x-%08x", at.UnixMilli(), i)
		total := int64(500 + rng.IntN(50_000))
		if kind == bill.Inpatient {
			total *= 20
		}
		var redOf any
		if rng.IntN(100) == 0 && lastBlue[p] != "" {
			redOf, total = lastBlue[p], -lastBlueTotal[p]
			lastBlue[p] = ""
		} else {
			lastBlue[p], lastBlueTotal[p] = id, total
		}
		payer := string(surnames[rng.IntN(len(surnames))]) + string(given[rng.IntN(len(given))]) + string(given[rng.IntN(len(given))])
		ch := channels[rng.IntN(len(channels))]
		if err := w.add(id, point, seqs[p], code, no, kind, payer, total, at.UnixMilli(), redOf, fmt.Sprintf("MZ%010d", rng.IntN(2_000_000)), ch); err != nil {
			return err
		}
		red := "0"
		if redOf != nil {
			red = "1"
		}
		sk := [5]string{strconv.FormatInt(at.UnixMilli()/3_600_000, 10), point, string(kind), ch, red}
		v := stats[sk]
		stats[sk] = [2]int64{v[0] + 1, v[1] + total}
		if (i+1)%500_000 == 0 {
			fmt.Fprintf(os.Stderr, "  %d bills\n", i+1)
		}
	}
	if err := w.flush(); err != nil {
		return err
	}
	for _, def := range indexes {
		if _, err := store.DB().ExecContext(ctx, def); err != nil {
			return fmt.Errorf("rebuild index: %w", err)
		}
	}
	return w.finish(segRows, stats)
}

// dropIndexes drops the bills table's secondary indexes (not those behind
// its primary key and unique constraints) and returns how to rebuild them.
func (w *billWriter) dropIndexes() ([]string, error) {
	q := "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'bills' AND sql IS NOT NULL"
	if w.store.Dialect() == server.Postgres {
		q = `SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'bills' AND i.schemaname = current_schema()
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`
	}
	rows, err := w.store.DB().QueryContext(w.ctx, q)
	if err != nil {
		return nil, err
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	for _, name := range names {
		if _, err := w.store.DB().ExecContext(w.ctx, "DROP INDEX "+name); err != nil {
			return nil, err
		}
	}
	return defs, rows.Err()
}

// billWriter inserts generated bills: COPY on PostgreSQL, large
// transactions of prepared inserts on SQLite.
type billWriter struct {
	ctx   context.Context
	store *server.Store
	rows  [][]any
}

var billCols = []string{"id", "point_code", "epoch", "seq", "bill_code", "bill_no", "check_code", "kind", "bus_no", "payer", "total",
	"issued_at", "red_of", "content", "hash", "signature", "received_at", "card_no", "bus_at", "bus_type", "patient_no", "pay_channel"}

func newBillWriter(ctx context.Context, store *server.Store) (*billWriter, error) {
	return &billWriter{ctx: ctx, store: store}, nil
}

func (w *billWriter) add(id, point string, seq int64, code string, no int64, kind bill.Kind, payer string, total, at int64, redOf any, patient, ch string) error {
	var busNo any = "B" + id
	if redOf != nil {
		busNo = nil
	}
	w.rows = append(w.rows, []any{id, point, int64(1), seq, code, no, "0000", string(kind), busNo, payer, total, at, redOf,
		[]byte("{}"), "00", []byte{0}, at + 60_000, nil, at, "02", patient, ch})
	if len(w.rows) >= 20_000 {
		return w.flush()
	}
	return nil
}

func (w *billWriter) flush() error {
	if len(w.rows) == 0 {
		return nil
	}
	err := w.copy("bills", billCols, w.rows)
	w.rows = w.rows[:0]
	return err
}

// copy writes rows into table.
func (w *billWriter) copy(table string, cols []string, rows [][]any) error {
	db := w.store.DB()
	if w.store.Dialect() == server.Postgres {
		conn, err := db.Conn(w.ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(w.ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
			return err
		})
	}
	tx, err := db.BeginTx(w.ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(w.ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ",")+") VALUES ("+strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",")+")")
	if err != nil {
		return err
	}
	defer st.Close()
	for _, r := range rows {
		if _, err := st.ExecContext(w.ctx, r...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// finish writes the segments and hourly figures, moves the stock's next
// numbers past the segments, and refreshes the planner's statistics.
func (w *billWriter) finish(segRows [][]any, stats map[[5]string][2]int64) error {
	var stockIDs = map[string]string{}
	rows, err := w.store.DB().QueryContext(w.ctx, "SELECT code, id FROM stock")
	if err != nil {
		return err
	}
	for rows.Next() {
		var c, id string
		if err := rows.Scan(&c, &id); err != nil {
			rows.Close()
			return err
		}
		stockIDs[c] = id
	}
	rows.Close()
	var segs [][]any
	for _, r := range segRows {
		segs = append(segs, []any{r[0], r[1], r[2], r[3], r[4], r[5], stockIDs[r[3].(string)], r[6], r[7]})
	}
	if err := w.copy("segments", []string{"id", "point_code", "epoch", "bill_code", "start_no", "end_no", "stock_id", "request_id", "allocated_at"}, segs); err != nil {
		return err
	}
	var st [][]any
	for k, v := range stats {
		hour, _ := strconv.ParseInt(k[0], 10, 64)
		red, _ := strconv.ParseInt(k[4], 10, 64)
		st = append(st, []any{hour, k[1], k[2], k[3], red, v[0], v[1]})
	}
	if err := w.copy("bill_stats", []string{"hour", "point_code", "kind", "channel", "red", "bills", "amount"}, st); err != nil {
		return err
	}
	daily := map[[5]any][2]int64{}
	for _, r := range st {
		k := [5]any{(r[0].(int64) + 8) / 24, r[1], r[2], r[3], r[4]}
		v := daily[k]
		daily[k] = [2]int64{v[0] + r[5].(int64), v[1] + r[6].(int64)}
	}
	var dr [][]any
	for k, v := range daily {
		dr = append(dr, []any{k[0], k[1], k[2], k[3], k[4], v[0], v[1]})
	}
	if err := w.copy("bill_daily", []string{"day", "point_code", "kind", "channel", "red", "bills", "amount"}, dr); err != nil {
		return err
	}
	// bill_trend: per hour, point and kind, with the '*' rollups.
	trend := map[[3]any][4]int64{}
	for _, r := range st {
		for _, k := range [][3]any{{r[0], r[1], r[2]}, {r[0], "*", r[2]}, {r[0], r[1], "*"}, {r[0], "*", "*"}} {
			v := trend[k]
			if r[4].(int64) == 1 {
				v[2], v[3] = v[2]+r[5].(int64), v[3]+r[6].(int64)
			} else {
				v[0], v[1] = v[0]+r[5].(int64), v[1]+r[6].(int64)
			}
			trend[k] = v
		}
	}
	var tr [][]any
	for k, v := range trend {
		tr = append(tr, []any{k[0], k[1], k[2], v[0], v[1], v[2], v[3]})
	}
	if err := w.copy("bill_trend", []string{"hour", "point_code", "kind", "bills", "amount", "reds", "red_amount"}, tr); err != nil {
		return err
	}
	q := "ANALYZE"
	if w.store.Dialect() == server.Postgres {
		q = "VACUUM ANALYZE"
	}
	_, err = w.store.DB().ExecContext(w.ctx, q)
	return err
}
