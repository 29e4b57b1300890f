package server

import (
	"bufio"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/private"
)

// Audit records are kept (triggers refuse UPDATE and DELETE: far beyond
// the 180 days of security.md AU-11) and, month by month, archived: each
// finished Beijing month's records are written to audit-YYYY-MM.jsonl in
// the archive folder, one record per line in chain order, and a last line
// with the checkpoint of the month's last record (its MAC under the audit
// key). Copied to write-once media, an archive shows what the trail said
// even if the database is later lost; VerifyAuditArchive checks a file's
// links and its checkpoint, so an edited archive is found.

// AuditArchiveLine is the last line of an archive file.
type AuditArchiveLine struct {
	Month      string          `json:"month"` // yyyy-mm, Beijing
	Records    int             `json:"records"`
	Checkpoint AuditCheckpoint `json:"checkpoint"`
}

// ArchiveAudit writes the records of month (any time in it, Beijing) to
// dir; an archive already written is left as it is (os.ErrExist in the
// error). It returns the file written and its record count.
func (s *Store) ArchiveAudit(ctx context.Context, dir string, month time.Time) (string, int, error) {
	if _, err := s.authorize(ctx, PermAuditExport); err != nil {
		return "", 0, err
	}
	m := month.In(bill.Beijing)
	from := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, bill.Beijing)
	to := from.AddDate(0, 1, 0)
	if !to.Before(s.now()) {
		return "", 0, bill.Errorf(bill.EInvalid, "%s 还没有结束，只能归档已结束的月份。", from.Format("2006年1月"))
	}
	if err := private.Dir(dir); err != nil {
		return "", 0, bill.Errorf(bill.EInvalid, "无法创建归档目录 %s：%v", dir, err)
	}
	path := filepath.Join(dir, "audit-"+from.Format("2006-01")+".jsonl")
	f, err := os.OpenFile(path+".part", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", 0, bill.Errorf(bill.EInvalid, "无法写入归档文件 %s：%v", path, err)
	}
	defer os.Remove(path + ".part")
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	n, last := 0, AuditRecord{}
	rows, err := s.query(ctx, `SELECT seq, at, actor, remote, action, target, detail, prev_hash, hash FROM audit
		WHERE at >= ? AND at < ? ORDER BY seq`, from.UnixMilli(), to.UnixMilli())
	if err == nil {
		var recs []AuditRecord
		if recs, err = scanAudit(rows); err == nil {
			for _, r := range recs {
				if err = enc.Encode(r); err != nil {
					break
				}
				n, last = n+1, r
			}
		}
	}
	if err == nil {
		cp := AuditCheckpoint{Seq: last.Seq, Hash: last.Hash, At: s.now().UTC(), MAC: s.checkpointMAC(last.Seq, last.Hash)}
		err = enc.Encode(AuditArchiveLine{Month: from.Format("2006-01"), Records: n, Checkpoint: cp})
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, err
	}
	// Link, not rename: an archive already there is never replaced.
	if err := os.Link(path+".part", path); err != nil {
		return path, 0, fmt.Errorf("server: archive %s: %w", path, err)
	}
	err = s.tx(ctx, func(t *dbtx) error {
		return t.audit(ctx, "audit.archive", from.Format("2006-01"), map[string]any{"file": filepath.Base(path), "records": n})
	})
	return path, n, err
}

// VerifyAuditArchive checks an archive file: each record's link to the
// one before and its hash under the audit key, and the checkpoint at the
// end. It returns the month's record count.
func (s *Store) VerifyAuditArchive(ctx context.Context, path string) (int, error) {
	if _, err := s.authorize(ctx, PermAuditVerify); err != nil {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, bill.Errorf(bill.EInvalid, "无法读取归档文件：%v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var lines [][]byte
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil || len(lines) == 0 {
		return 0, bill.Errorf(bill.ETampered, "归档文件 %s 不完整。", filepath.Base(path))
	}
	var end AuditArchiveLine
	if err := json.Unmarshal(lines[len(lines)-1], &end); err != nil || end.Month == "" {
		return 0, bill.Errorf(bill.ETampered, "归档文件 %s 缺少末尾的检查点。", filepath.Base(path))
	}
	recs := lines[:len(lines)-1]
	if len(recs) != end.Records {
		return 0, bill.Errorf(bill.ETampered, "归档文件 %s 应有 %d 条记录，实有 %d 条。", filepath.Base(path), end.Records, len(recs))
	}
	var prev AuditRecord
	for i, line := range recs {
		var r AuditRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return 0, bill.Errorf(bill.ETampered, "归档文件第 %d 行无法读取。", i+1)
		}
		switch {
		case i > 0 && (r.Seq != prev.Seq+1 || r.PrevHash != prev.Hash):
			return 0, bill.Errorf(bill.ETampered, "归档中审计记录第 %d 条与前一条的链接断开（有记录被删除或调换）。", r.Seq)
		case s.auditHash(&r) != r.Hash:
			return 0, bill.Errorf(bill.ETampered, "归档中审计记录第 %d 条内容被改动。", r.Seq)
		}
		prev = r
	}
	cp := end.Checkpoint
	if want := s.checkpointMAC(cp.Seq, cp.Hash); want == "" || !hmac.Equal([]byte(want), []byte(cp.MAC)) || cp.Seq != prev.Seq || cp.Hash != prev.Hash {
		return 0, bill.Errorf(bill.ETampered, "归档文件 %s 末尾的检查点不符：文件被改动，或不是本服务器的。", filepath.Base(path))
	}
	return len(recs), nil
}

// AuditArchiver archives, every `every`, each finished month since the
// trail began that has no archive file in dir yet.
func (s *Store) AuditArchiver(dir string, every time.Duration) Runner {
	return &loopRunner{name: "audit-archive", every: every, run: func(ctx context.Context) {
		if err := s.archiveDue(ctx, dir); err != nil && ctx.Err() == nil {
			s.log.Error("audit archive", "dir", dir, "err", err)
		}
	}}
}

// archiveDue writes the archives missing in dir, oldest month first.
func (s *Store) archiveDue(ctx context.Context, dir string) error {
	var first int64
	if err := s.queryRow(ctx, "SELECT COALESCE(MIN(at), 0) FROM audit").Scan(&first); err != nil || first == 0 {
		return err
	}
	sys := WithActor(ctx, Actor{Who: "system:audit-archive", System: true})
	now := s.now().In(bill.Beijing)
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, bill.Beijing)
	for m := time.UnixMilli(first).In(bill.Beijing); ; m = m.AddDate(0, 1, 0) {
		month := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, bill.Beijing)
		if !month.Before(thisMonth) {
			return nil
		}
		if _, err := os.Stat(filepath.Join(dir, "audit-"+month.Format("2006-01")+".jsonl")); err == nil {
			continue
		}
		path, n, err := s.ArchiveAudit(sys, dir, month)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err == nil {
			s.log.Info("audit archived", slog.String("file", path), slog.Int("records", n))
		}
	}
}
