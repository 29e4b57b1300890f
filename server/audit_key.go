package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/ebill/ebill/bill"
)

// The audit chain is keyed (security.md, audit): from the record the key
// file names on, each record's hash is HMAC-SM3 under a 32-byte key kept
// in a file beside the data, never in the database — someone who can
// write the database can no longer delete records and recompute the
// chain. Records before that (an install older than the key) keep their
// plain SM3 links; checkpoints exported for archiving pin them.

// auditKeyFile is where the key is kept when no other place is given.
const auditKeyFile = "keys/audit.key"

// WithAuditKeyFile says where the audit chain's key is kept (made, 0600,
// with the next record's number, when missing).
func WithAuditKeyFile(path string) StoreOption { return func(s *Store) { s.auditKeyFile = path } }

// auditKeyDoc is the key file's content.
type auditKeyDoc struct {
	Key  string `json:"key"`  // hex, 32 bytes
	From int64  `json:"from"` // the first record keyed
}

// loadAuditKey reads (or makes) the chain's key. A store with no key file
// and no data directory (a PostgreSQL test) keeps the plain chain.
func (s *Store) loadAuditKey(ctx context.Context, dataDir string) error {
	path := s.auditKeyFile
	if path == "" && dataDir != "" {
		path = filepath.Join(dataDir, auditKeyFile)
	}
	if path == "" {
		s.log.Warn("no audit key file: the audit chain is not keyed")
		return nil
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		var head int64
		if err := s.queryRow(ctx, "SELECT seq FROM audit_head WHERE id = 1").Scan(&head); err != nil {
			return err
		}
		key := make([]byte, 32)
		rand.Read(key)
		doc, _ := json.Marshal(auditKeyDoc{Key: hex.EncodeToString(key), From: head + 1})
		if err := writeNewKeyFile(path, doc); errors.Is(err, os.ErrExist) { // another process made it a moment ago
			return s.loadAuditKey(ctx, dataDir)
		} else if err != nil {
			return err
		}
		raw = doc
	} else if err != nil {
		return err
	}
	var doc auditKeyDoc
	if err := json.Unmarshal(raw, &doc); err != nil || doc.From < 1 {
		return fmt.Errorf("audit key %s: not a key file", path)
	}
	key, herr := hex.DecodeString(doc.Key)
	if herr != nil || len(key) != 32 {
		return fmt.Errorf("audit key %s: the key is not 32 bytes of hex", path)
	}
	s.auditKey, s.auditFrom = key, doc.From
	return nil
}

// auditHash is the record's link: HMAC-SM3 under the key from auditFrom
// on, plain SM3 before, over the previous hash and the record's fields.
func (s *Store) auditHash(r *AuditRecord) string {
	body, _ := json.Marshal([]any{r.PrevHash, r.Seq, r.At.UnixMilli(), r.Actor, r.Remote, r.Action, r.Target, string(r.Detail)})
	if s.auditKey != nil && r.Seq >= s.auditFrom {
		m := hmac.New(sm3.New, s.auditKey)
		m.Write(body)
		return hex.EncodeToString(m.Sum(nil))
	}
	return hex.EncodeToString(bill.ContentHash(body))
}

// AuditCheckpoint is the chain's head at a moment, with a MAC under the
// audit key: printed or archived apart from the server, it pins every
// record up to it.
type AuditCheckpoint struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"`
	MAC  string    `json:"mac"`
}

func (s *Store) checkpointMAC(seq int64, hash string) string {
	if s.auditKey == nil {
		return ""
	}
	m := hmac.New(sm3.New, s.auditKey)
	fmt.Fprintf(m, "ebill-audit-checkpoint|%d|%s", seq, hash)
	return hex.EncodeToString(m.Sum(nil))
}

// Checkpoint exports the chain's head (the auditor's, to archive).
func (s *Store) Checkpoint(ctx context.Context) (*AuditCheckpoint, error) {
	if _, err := s.authorize(ctx, PermAuditExport); err != nil {
		return nil, err
	}
	cp := &AuditCheckpoint{At: s.now().UTC()}
	if err := s.queryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&cp.Seq, &cp.Hash); err != nil {
		return nil, err
	}
	cp.MAC = s.checkpointMAC(cp.Seq, cp.Hash)
	err := s.tx(ctx, func(t *dbtx) error { return t.audit(ctx, "audit.checkpoint", "", map[string]any{"seq": cp.Seq}) })
	return cp, err
}

// VerifyCheckpoint checks an archived checkpoint against the trail: its MAC
// under the key, and the record it names still carrying its hash.
func (s *Store) VerifyCheckpoint(ctx context.Context, cp AuditCheckpoint) error {
	if _, err := s.authorize(ctx, PermAuditVerify); err != nil {
		return err
	}
	if want := s.checkpointMAC(cp.Seq, cp.Hash); want == "" || !hmac.Equal([]byte(want), []byte(cp.MAC)) {
		return bill.Errorf(bill.ETampered, "检查点第 %d 条的校验码不符：检查点被改动，或不是本服务器的。", cp.Seq)
	}
	recs, err := s.AuditTrail(ctx, cp.Seq-1, 1)
	if err != nil {
		return err
	}
	if len(recs) != 1 || recs[0].Seq != cp.Seq || recs[0].Hash != cp.Hash {
		return bill.Errorf(bill.ETampered, "审计记录第 %d 条与存档的检查点不符：此前的记录被改动或删除。", cp.Seq)
	}
	return nil
}
