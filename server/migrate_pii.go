package server

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"

	"github.com/ebill/ebill/internal/pii"
)

// Migration 25 takes ID and phone numbers out of the stored bills and
// conflicts (security.md DC-2): each row's content keeps its personal
// numbers as zeros and the originals go, sealed with SM4-GCM, to the new
// pii column (internal/pii). The phone numbers of certificates and of
// correction requests, HIS apps' keys and server points' private keys are
// sealed in place. It is a Go migration because sealing needs the key, which is
// not in the database.
func piiMigration(dialect string, sealer *pii.Sealer, sealText, openText func(string, string) string) *goose.Migration {
	blob := "BYTEA"
	if dialect == SQLite {
		blob = "BLOB"
	}
	rebind := (&Store{dialect: dialect}).rebind
	up := func(ctx context.Context, tx *sql.Tx) error {
		for _, table := range []string{"bills", "conflicts"} {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+table+" ADD COLUMN pii "+blob); err != nil {
				return err
			}
			idCol := "id"
			if table == "conflicts" {
				idCol = "bill_id"
			}
			if err := sealRows(ctx, tx, rebind, sealer, table, idCol); err != nil {
				return err
			}
		}
		return mapPhones(ctx, tx, rebind, sealText)
	}
	// Down puts the numbers back in clear before the column goes: a
	// program of before this migration reads content as it is.
	down := func(ctx context.Context, tx *sql.Tx) error {
		for _, table := range []string{"bills", "conflicts"} {
			idCol := "id"
			if table == "conflicts" {
				idCol = "bill_id"
			}
			if err := openRows(ctx, tx, rebind, sealer, table, idCol); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+table+" DROP COLUMN pii"); err != nil {
				return err
			}
		}
		return mapPhones(ctx, tx, rebind, openText)
	}
	return goose.NewGoMigration(25, &goose.GoFunc{RunTx: up}, &goose.GoFunc{RunTx: down})
}

// mapPhones rewrites with f (seal or open) each certificate's phone number,
// the phone number proposed in each correction request, and the secrets
// the server reads back: HIS apps' keys and server points' signing keys.
func mapPhones(ctx context.Context, tx *sql.Tx, rebind func(string) string, f func(v, ad string) string) error {
	for _, c := range []struct{ read, write, ad string }{
		{"SELECT id, phone FROM certificates WHERE phone <> ''", "UPDATE certificates SET phone = ? WHERE id = ?", "certificate:"},
		{"SELECT appid, secret FROM his_apps", "UPDATE his_apps SET secret = ? WHERE appid = ?", "his_app:"},
		{"SELECT point_code, private_key FROM point_keys", "UPDATE point_keys SET private_key = ? WHERE point_code = ?", "point_key:"},
	} {
		values, err := readPairs(ctx, tx, c.read)
		if err != nil {
			return err
		}
		for id, v := range values {
			if _, err := tx.ExecContext(ctx, rebind(c.write), f(v, c.ad+id), id); err != nil {
				return err
			}
		}
	}
	props, err := readPairs(ctx, tx, "SELECT id, proposal FROM corrections")
	if err != nil {
		return err
	}
	for id, raw := range props {
		var p map[string]any
		if json.Unmarshal([]byte(raw), &p) != nil {
			continue
		}
		tel, _ := p["tel"].(string)
		if tel == "" {
			continue
		}
		p["tel"] = f(tel, "correction:"+id)
		b, _ := json.Marshal(p)
		if _, err := tx.ExecContext(ctx, rebind("UPDATE corrections SET proposal = ? WHERE id = ?"), string(b), id); err != nil {
			return err
		}
	}
	return nil
}

// readPairs reads a query's two text columns into a map.
func readPairs(ctx context.Context, tx *sql.Tx, q string) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// sealRows masks and seals the content of every row of table, a page at a
// time in id order; rows without personal numbers are left as they are.
func sealRows(ctx context.Context, tx *sql.Tx, rebind func(string) string, sealer *pii.Sealer, table, idCol string) error {
	last := ""
	for {
		rows, err := tx.QueryContext(ctx, rebind("SELECT id, "+idCol+", content FROM "+table+" WHERE id > ? ORDER BY id LIMIT ?"), last, backfillPage)
		if err != nil {
			return err
		}
		type change struct {
			id              string
			content, sealed []byte
		}
		var changes []change
		n := 0
		for rows.Next() {
			var id, billID string
			var content []byte
			if err := rows.Scan(&id, &billID, &content); err != nil {
				rows.Close()
				return err
			}
			n, last = n+1, id
			if masked, sealed := sealer.Seal(content, []byte(billID)); sealed != nil {
				changes = append(changes, change{id, masked, sealed})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		for _, c := range changes {
			if _, err := tx.ExecContext(ctx, rebind("UPDATE "+table+" SET content = ?, pii = ? WHERE id = ?"), c.content, c.sealed, c.id); err != nil {
				return err
			}
		}
	}
}

// openRows is sealRows undone: the sealed numbers back into content.
func openRows(ctx context.Context, tx *sql.Tx, rebind func(string) string, sealer *pii.Sealer, table, idCol string) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, "+idCol+", content, pii FROM "+table+" WHERE pii IS NOT NULL")
	if err != nil {
		return err
	}
	plain := map[string][]byte{}
	for rows.Next() {
		var id, billID string
		var content, sealed []byte
		if err := rows.Scan(&id, &billID, &content, &sealed); err != nil {
			rows.Close()
			return err
		}
		if plain[id], err = sealer.Open(content, sealed, []byte(billID)); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for id, content := range plain {
		if _, err := tx.ExecContext(ctx, rebind("UPDATE "+table+" SET content = ? WHERE id = ?"), content, id); err != nil {
			return err
		}
	}
	return nil
}

// sealedTextPrefix marks a text column's value as sealed (base64 of the
// SM4-GCM nonce and ciphertext); values without it are from before.
const sealedTextPrefix = "sm4:"

// sealText seals a short personal value kept in a text column, bound to
// its row by ad.
func (s *Store) sealText(plain, ad string) string {
	if plain == "" {
		return ""
	}
	return sealedTextPrefix + base64.RawStdEncoding.EncodeToString(s.sealSecret([]byte(plain), ad))
}

// openText opens what sealText sealed; a value from before sealing comes
// back as it is, one that does not open as "" (logged).
func (s *Store) openText(v, ad string) string {
	plain, err := s.openTextErr(v, ad)
	if err != nil {
		s.log.Error("a sealed value does not open", "ad", ad, "err", err)
	}
	return plain
}

// openTextErr is openText for a secret, where "" must not stand in for
// a value that does not open.
func (s *Store) openTextErr(v, ad string) (string, error) {
	raw, ok := strings.CutPrefix(v, sealedTextPrefix)
	if !ok {
		return v, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err == nil {
		b, err = s.unsealSecret(b, ad)
	}
	if err != nil {
		return "", fmt.Errorf("server: %s: the sealed value does not open (another keys/secret.key?): %w", ad, err)
	}
	return string(b), nil
}
