// Package private makes files that hold keys or personal data private to
// the account that runs the program (security.md: the station and ledger
// databases, backups, key files). On Windows the mode bits do little; the
// installer sets the data folder's ACL (windows.md).
package private

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File makes path a file only its owner can read and write: created empty
// with mode 0600 when it does not exist, its mode tightened when it does.
// SQLite gives a database's -wal and -shm files the database's mode.
func File(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return os.Chmod(path, fi.Mode().Perm()&0o700)
	}
	return nil
}

// Dir makes a directory only its owner can enter, creating it as needed.
func Dir(path string) error {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return os.Chmod(path, fi.Mode().Perm()&0o700)
	}
	return nil
}

// Copy copies the file src to dst, which it makes private (0600) in a
// private folder, and syncs it to disk before it returns.
func Copy(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := Dir(filepath.Dir(dst)); err != nil {
		return err
	}
	if err := File(dst); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
