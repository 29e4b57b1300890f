package server

import (
	"context"
	"os"
	"path/filepath"
)

// DatabaseStats are figures of the ledger's database for diagnostics and
// the DBA: sizes, and the rows and size of each main table.
func (s *Store) DatabaseStats(ctx context.Context, dataDir string) (map[string]any, error) {
	if _, err := s.authorize(ctx, PermInspect); err != nil {
		return nil, err
	}
	out := map[string]any{"dialect": s.dialect}
	tables := []string{"bills", "segments", "paper_usage", "audit", "bill_stats", "bill_daily", "conflicts", "users", "points", "his_noise"}
	rows := map[string]int64{}
	for _, t := range tables {
		var n int64
		if err := s.queryRow(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
			return nil, err
		}
		rows[t] = n
	}
	out["rows"] = rows
	if s.dialect == SQLite {
		path := filepath.Join(dataDir, "ledger.db")
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(path + suffix); err == nil {
				out["size"+suffix] = fi.Size()
			}
		}
		for _, p := range []string{"page_size", "page_count", "freelist_count"} {
			var v int64
			if err := s.queryRow(ctx, "PRAGMA "+p).Scan(&v); err != nil {
				return nil, err
			}
			out[p] = v
		}
		return out, nil
	}
	var size int64
	if err := s.queryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&size); err != nil {
		return nil, err
	}
	out["databaseSize"] = size
	sizes := map[string]int64{}
	for _, t := range tables {
		var n int64
		if err := s.queryRow(ctx, "SELECT pg_total_relation_size(?::regclass)", t).Scan(&n); err != nil {
			return nil, err
		}
		sizes[t] = n
	}
	out["tableSizes"] = sizes
	return out, nil
}
