package server

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/pressly/goose/v3"

	"github.com/ebill/ebill/bill"
)

// Hourly figures (bill_stats) kept with the bills: the summaries (开票汇总)
// and the peak trend read a year as at most 8,760 hours per point, kind and
// channel instead of millions of bills.

// statKey is one row of bill_stats.
type statKey struct {
	hour               int64
	point, kind, chann string
	red                int
}

type statVal struct{ bills, amount int64 }

// billStats adds a bill's figures to m: the bill counted once, under its
// main (first) pay channel, and its total split by channel — exactly its
// total, whatever the channels' values add up to.
func billStats(m map[statKey]statVal, point string, b *bill.Bill) {
	hour := b.IssuedTime().UnixMilli() / 3_600_000
	red := 0
	if b.Red != nil {
		red = 1
	}
	total := int64(b.Settlement.TotalAmt)
	chans := b.Settlement.PayChannelDetail
	add := func(ch string, bills, amount int64) {
		k := statKey{hour: hour, point: point, kind: string(b.Kind), chann: ch, red: red}
		v := m[k]
		v.bills += bills
		v.amount += amount
		m[k] = v
	}
	if len(chans) == 0 {
		add("", 1, total)
		return
	}
	var sum int64
	for _, c := range chans {
		sum += int64(c.Value)
	}
	sign := int64(1)
	if (sum > 0) != (total > 0) && sum != 0 && total != 0 {
		sign = -1 // a red bill whose channels keep the original's signs
	}
	rest := total
	for i, c := range chans {
		v := sign * int64(c.Value)
		if i == len(chans)-1 {
			v = rest
		}
		rest -= v
		bills := int64(0)
		if i == 0 {
			bills = 1
		}
		add(strings.TrimSpace(string(c.Code)), bills, v)
	}
}

// mainChannel is the pay channel a bill is listed under.
func mainChannel(b *bill.Bill) string {
	if len(b.Settlement.PayChannelDetail) == 0 {
		return ""
	}
	return strings.TrimSpace(string(b.Settlement.PayChannelDetail[0].Code))
}

// patientNo is the patient number a bill is found by: the hospital's
// patient number, else its patient id.
func patientNo(b *bill.Bill) string {
	if p := strings.TrimSpace(string(b.Settlement.PatientNo)); p != "" {
		return p
	}
	return strings.TrimSpace(string(b.Settlement.PatientID))
}

// addStats writes figures into bill_stats, bill_daily and bill_trend,
// adding to rows already there.
func addStats(ctx context.Context, exec execer, m map[statKey]statVal) error {
	if err := addHourlyDaily(ctx, exec, m); err != nil {
		return err
	}
	return upsertTrend(ctx, exec, m)
}

// addHourlyDaily writes bill_stats and bill_daily (all that exists at
// migration 16; 00019 fills bill_trend from them).
func addHourlyDaily(ctx context.Context, exec execer, m map[statKey]statVal) error {
	days := map[statKey]statVal{}
	for k, v := range m {
		d := k
		d.hour = (k.hour + 8) / 24 // the Beijing day
		dv := days[d]
		days[d] = statVal{dv.bills + v.bills, dv.amount + v.amount}
	}
	if err := upsertStats(ctx, exec, "bill_stats", "hour", m); err != nil {
		return err
	}
	return upsertStats(ctx, exec, "bill_daily", "day", days)
}

// trendKey is a row of bill_trend.
type trendKey struct {
	hour        int64
	point, kind string
}

type trendVal struct{ bills, amount, reds, redAmount int64 }

// upsertTrend adds the figures to bill_trend, with the '*' rollups.
func upsertTrend(ctx context.Context, exec execer, m map[statKey]statVal) error {
	t := map[trendKey]trendVal{}
	for k, v := range m {
		for _, tk := range []trendKey{{k.hour, k.point, k.kind}, {k.hour, "*", k.kind}, {k.hour, k.point, "*"}, {k.hour, "*", "*"}} {
			tv := t[tk]
			if k.red == 1 {
				tv.reds, tv.redAmount = tv.reds+v.bills, tv.redAmount+v.amount
			} else {
				tv.bills, tv.amount = tv.bills+v.bills, tv.amount+v.amount
			}
			t[tk] = tv
		}
	}
	rows := make([][]any, 0, len(t))
	for k, v := range t {
		rows = append(rows, []any{k.point, k.kind, k.hour, v.bills, v.amount, v.reds, v.redAmount})
	}
	return addRows(ctx, exec, "bill_trend", []string{"point_code", "kind", "hour"}, []string{"bills", "amount", "reds", "red_amount"}, rows)
}

func upsertStats(ctx context.Context, exec execer, table, period string, m map[statKey]statVal) error {
	rows := make([][]any, 0, len(m))
	for k, v := range m {
		rows = append(rows, []any{k.hour, k.point, k.kind, k.chann, k.red, v.bills, v.amount})
	}
	return addRows(ctx, exec, table, []string{period, "point_code", "kind", "channel", "red"}, []string{"bills", "amount"}, rows)
}

// execer runs a statement: a transaction's exec, or a migration's.
type execer func(ctx context.Context, q string, args ...any) (sql.Result, error)

// addRows inserts rows of key columns then figures into table, 200 a
// statement, adding the figures to a row already there.
func addRows(ctx context.Context, exec execer, table string, keys, sums []string, rows [][]any) error {
	cols := len(keys) + len(sums)
	set := make([]string, len(sums))
	for i, c := range sums {
		set[i] = c + " = " + table + "." + c + " + excluded." + c
	}
	head := "INSERT INTO " + table + " (" + strings.Join(keys, ", ") + ", " + strings.Join(sums, ", ") + ") VALUES "
	tail := " ON CONFLICT (" + strings.Join(keys, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
	// Rows in key order: transactions that add to the same rows lock them
	// in the same order, so they wait for each other rather than deadlock.
	slices.SortFunc(rows, func(a, b []any) int {
		for i := range keys {
			if c := cmpKey(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	for i := 0; i < len(rows); i += 200 {
		chunk := rows[i:min(i+200, len(rows))]
		values := make([]string, len(chunk))
		args := make([]any, 0, cols*len(chunk))
		for j, r := range chunk {
			values[j] = "(" + placeholders(cols) + ")"
			args = append(args, r...)
		}
		if _, err := exec(ctx, head+strings.Join(values, ",")+tail, args...); err != nil {
			return err
		}
	}
	return nil
}

// statsMigration (16) fills the patient number, the main pay channel and
// the hourly figures of the bills already held, from their signed content.
func statsMigration(dialect string) *goose.Migration {
	rebind := (&Store{dialect: dialect}).rebind
	up := func(ctx context.Context, tx *sql.Tx) error {
		exec := func(ctx context.Context, q string, args ...any) (sql.Result, error) {
			return tx.ExecContext(ctx, rebind(q), args...)
		}
		last := ""
		for {
			rows, err := tx.QueryContext(ctx, rebind("SELECT id, point_code, content FROM bills WHERE id > ? ORDER BY id LIMIT ?"), last, backfillPage)
			if err != nil {
				return err
			}
			m := map[statKey]statVal{}
			var values []string
			var args []any
			n := 0
			for rows.Next() {
				var id, point string
				var content []byte
				if err := rows.Scan(&id, &point, &content); err != nil {
					rows.Close()
					return err
				}
				n, last = n+1, id
				b, err := decodeBill(content)
				if err != nil {
					continue
				}
				billStats(m, point, b)
				values = append(values, "(?, ?, ?)")
				args = append(args, id, patientNo(b), mainChannel(b))
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			if len(values) > 0 {
				if _, err := exec(ctx, `UPDATE bills SET patient_no = v.column2, pay_channel = v.column3
					FROM (VALUES `+strings.Join(values, ",")+`) AS v WHERE bills.id = v.column1`, args...); err != nil {
					return err
				}
			}
			if err := addHourlyDaily(ctx, exec, m); err != nil {
				return err
			}
		}
	}
	down := func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM bill_daily"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM bill_stats")
		return err
	}
	return goose.NewGoMigration(16, &goose.GoFunc{RunTx: up}, &goose.GoFunc{RunTx: down})
}

// cmpKey orders two key values of one column (int64, int or string).
func cmpKey(a, b any) int {
	switch a := a.(type) {
	case int64:
		return cmp.Compare(a, b.(int64))
	case int:
		return cmp.Compare(a, b.(int))
	case string:
		return cmp.Compare(a, b.(string))
	}
	return 0
}
