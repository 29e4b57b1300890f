package localstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/pii"
)

// DataKeyFile is where, inside the data directory, the key that seals the
// ID and phone numbers of the station's bills is kept (security.md DC-2):
// a file of its own, private to the service, never inside station.db, so
// a copy of the database alone does not give them away.
const DataKeyFile = "keys/data.key"

// loadDataKey reads the data key, making it for a new store. A store that
// already holds sealed bills and has lost its key is refused: a new key
// would open none of them, and the bills would not verify or upload.
func (s *Store) loadDataKey(ctx context.Context, dir string) error {
	path := filepath.Join(dir, DataKeyFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && s.holdsSealed(ctx) {
		s.log.Error("station data key missing", "path", path)
		return bill.Errorf(bill.ETampered, "本机数据密钥文件 %s 不见了，本机票据中的证件号和电话号码无法解开，已停止开票和上传。"+
			"请不要新建或覆盖任何文件，联系信息科：从密钥备份放回该文件（详见《开票点运维手册》“数据密钥”）。", path)
	}
	key, err := pii.ReadOrMakeKey(path)
	if err != nil {
		return bill.Errorf(bill.EInvalid, "无法读取本机数据密钥 %s：%v；请检查路径和权限。", path, err)
	}
	s.pii, err = pii.New(key)
	return err
}

// holdsSealed reports whether the database holds bills whose personal
// numbers are sealed (false for a new file or one from before sealing).
func (s *Store) holdsSealed(ctx context.Context) bool {
	var n int
	err := s.read.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM bills WHERE pii IS NOT NULL)").Scan(&n)
	return err == nil && n > 0
}

// openContent puts a stored bill's personal numbers back into its content,
// giving the bytes that were hashed and signed.
func (s *Store) openContent(id string, content, sealed []byte) ([]byte, error) {
	plain, err := s.pii.Open(content, sealed, []byte(id))
	if err != nil {
		s.log.Error("bill's personal data does not open", "bill", id, "err", err)
		return nil, bill.Errorf(bill.ETampered, "票据 %s 的证件号、电话号码无法解开：本机数据密钥不符或数据被改动。请联系信息科。", id)
	}
	return plain, nil
}

// sealLegacyBills seals the personal numbers of the bills stored before
// migration 7, in its transaction (the trigger lets a bill be sealed once).
func (s *Store) sealLegacyBills(ctx context.Context, tx *wtx) error {
	rows, err := tx.QueryContext(ctx, "SELECT seq, id, content FROM bills WHERE pii IS NULL")
	if err != nil {
		return err
	}
	type change struct {
		seq             int64
		content, sealed []byte
	}
	var changes []change
	for rows.Next() {
		var seq int64
		var id string
		var content []byte
		if err := rows.Scan(&seq, &id, &content); err != nil {
			rows.Close()
			return err
		}
		if masked, sealed := s.pii.Seal(content, []byte(id)); sealed != nil {
			changes = append(changes, change{seq, masked, sealed})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range changes {
		if _, err := tx.ExecContext(ctx, "UPDATE bills SET content = ?, pii = ? WHERE seq = ?", c.content, c.sealed, c.seq); err != nil {
			return fmt.Errorf("seal bill %d: %w", c.seq, err)
		}
	}
	return nil
}
