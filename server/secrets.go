package server

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"path/filepath"
	"sync"

	"github.com/emmansun/gmsm/sm4"

	"github.com/ebill/ebill/internal/pii"
)

// Secrets the server must read back (TOTP secrets) are sealed with SM4-GCM
// (security.md DC-2) under a 16-byte key kept in a file of its own, never
// in the database: write access to the database does not give them away.

// secretKeyFile is where the key is kept when no other place is given:
// beside the SQLite file, in a private directory.
const secretKeyFile = "keys/secret.key"

// WithSecretKeyFile says where the key that seals secrets is kept (made,
// 0600, when missing).
func WithSecretKeyFile(path string) StoreOption { return func(s *Store) { s.keyFile = path } }

// loadSealer reads (or makes) the sealing key. A store with neither a key
// file nor a data directory (a PostgreSQL test) seals with a key of the
// process only: what it seals does not open in another process.
func (s *Store) loadSealer(dataDir string) error {
	path := s.keyFile
	if path == "" && dataDir != "" {
		path = filepath.Join(dataDir, secretKeyFile)
	}
	var key []byte
	if path == "" {
		processKeyOnce.Do(func() {
			processKey = make([]byte, pii.KeySize)
			rand.Read(processKey)
		})
		key = processKey
		s.log.Warn("no key file for sealed secrets: a key of this process only is used")
	} else {
		var err error
		if key, err = pii.ReadOrMakeKey(path); err != nil {
			return err
		}
	}
	block, err := sm4.NewCipher(key)
	if err != nil {
		return err
	}
	if s.aead, err = cipher.NewGCM(block); err != nil {
		return err
	}
	s.pii, err = pii.New(key)
	return err
}

var (
	processKeyOnce sync.Once
	processKey     []byte
)

// seal encrypts a secret; the user's login is bound in as associated data,
// so a sealed value moved to another user's row does not open.
func (s *Store) sealSecret(plain []byte, login string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, []byte(login))
}

func (s *Store) unsealSecret(sealed []byte, login string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed secret too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], []byte(login))
}

// subtleEqual compares two codes in constant time.
func subtleEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// writeNewKeyFile writes a key file that does not exist yet (os.ErrExist
// when it does), private to the service, in a private directory.
func writeNewKeyFile(path string, content []byte) error { return pii.WriteNewKeyFile(path, content) }
