package server

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/ebill/ebill/bill"
)

// Migration 7 gives every bill its business time and type, so that the
// HIS's reconciliation calls (getBillByBusDate, checkTotalData,
// checkWriteOffData) count a bill on the day of its business, as HIS
// does: a settlement at 23:59:59 whose bill is issued a second after
// midnight belongs to the day before. It is a Go migration because the
// business time of the bills already held is read from their signed
// content.
func busDateMigration(dialect string) *goose.Migration {
	bigint := "BIGINT"
	if dialect == SQLite {
		bigint = "INTEGER"
	}
	up := func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range []string{
			"ALTER TABLE bills ADD COLUMN bus_at " + bigint,
			"ALTER TABLE bills ADD COLUMN bus_type TEXT NOT NULL DEFAULT ''",
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		if err := backfillBusiness(ctx, tx, dialect); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "CREATE INDEX bills_business ON bills (point_code, bus_at)")
		return err
	}
	down := func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range []string{"DROP INDEX bills_business", "ALTER TABLE bills DROP COLUMN bus_type", "ALTER TABLE bills DROP COLUMN bus_at"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}
	return goose.NewGoMigration(7, &goose.GoFunc{RunTx: up}, &goose.GoFunc{RunTx: down})
}

// backfillPage is how many bills one backfill statement reads and writes.
var backfillPage = 1000

// backfillBusiness sets the business time and type of the bills held, a
// page at a time, in id order (each read starts where the last ended,
// so a large ledger is read once, not once per thousand).
func backfillBusiness(ctx context.Context, tx *sql.Tx, dialect string) error {
	rebind := (&Store{dialect: dialect}).rebind
	last := ""
	for {
		rows, err := tx.QueryContext(ctx, rebind("SELECT id, content, issued_at FROM bills WHERE id > ? ORDER BY id LIMIT ?"), last, backfillPage)
		if err != nil {
			return err
		}
		type row struct {
			id, busType string
			at          int64
		}
		var todo []row
		for rows.Next() {
			var id string
			var content []byte
			var issued int64
			if err := rows.Scan(&id, &content, &issued); err != nil {
				rows.Close()
				return err
			}
			r := row{id: id, at: issued}
			if b, err := decodeBill(content); err == nil {
				r.at, r.busType = BusinessTime(b).UnixMilli(), string(b.Settlement.BusType)
			}
			todo = append(todo, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(todo) == 0 {
			return nil
		}
		last = todo[len(todo)-1].id
		// One statement per page: VALUES names its columns column1… in
		// both SQLite and PostgreSQL.
		values := make([]string, len(todo))
		args := make([]any, 0, 3*len(todo))
		for i, r := range todo {
			values[i] = "(?, CAST(? AS BIGINT), ?)"
			args = append(args, r.id, r.at, r.busType)
		}
		if _, err := tx.ExecContext(ctx, rebind(`UPDATE bills SET bus_at = v.column2, bus_type = v.column3
			FROM (VALUES `+strings.Join(values, ",")+`) AS v WHERE bills.id = v.column1`), args...); err != nil {
			return err
		}
	}
}

// BusinessTime is when a bill's business happened: a blue bill's
// busDateTime; a red bill's own issue time (the refund, whereas its
// settlement mirrors the original's); the issue time when busDateTime
// cannot be read.
func BusinessTime(b *bill.Bill) time.Time {
	if b.Red == nil {
		if t, err := bill.ParseBusDateTime(string(b.Settlement.BusDateTime)); err == nil {
			return t
		}
	}
	return b.IssuedTime()
}
