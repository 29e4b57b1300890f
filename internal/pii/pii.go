// Package pii keeps resident ID numbers and mobile phone numbers out of
// stored bills (security.md DC-2). A bill's content is the exact byte
// string that was hashed and signed, so it cannot be re-encoded on the way
// in and out. Instead every digit of every ID or mobile number found in it
// is replaced by '0' in the stored copy, and the original digits, with
// their offsets, are sealed with SM4-GCM under a key kept outside the
// database. Opening puts them back byte for byte, so the hash and the
// signature hold. The masked copy is still valid JSON of the same shape:
// code that needs no personal data (statistics, write-off categories)
// reads it without the key, and a lost key costs the personal data, not
// the bill.
package pii

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// KeySize is the length of an SM4 key.
const KeySize = 16

const version = 1

// ErrKey is returned when sealed data was made under a key this Sealer
// does not have.
var ErrKey = errors.New("pii: sealed under another key")

// Sealer masks and seals, and opens, personal numbers in stored content.
// The first key seals; every key opens what it sealed (rotation: a new key
// first, the old ones after it until everything is sealed again).
type Sealer struct {
	keys []sealKey
}

type sealKey struct {
	id   [4]byte
	aead cipher.AEAD
}

// New returns a Sealer for the given keys, the sealing key first.
func New(keys ...[]byte) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("pii: no key")
	}
	s := &Sealer{}
	for _, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("pii: key of %d bytes, want %d", len(k), KeySize)
		}
		block, err := sm4.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sk := sealKey{aead: aead}
		sum := sm3.Sum(k)
		copy(sk.id[:], sum[:4])
		s.keys = append(s.keys, sk)
	}
	return s, nil
}

// Span is one personal number found in content.
type Span struct {
	Off int
	Raw []byte
}

// Find returns the resident ID numbers (18 characters with a valid
// GB 11643 check character) and mobile numbers (11 digits 1[3-9]…,
// optionally after 86) in b, each a whole token: a run of digits with no
// ASCII letter or digit either side (so that a run of digits inside a hex
// hash or a UUID is left alone; a number after a Chinese character or in
// quotes is found).
func Find(b []byte) []Span {
	var out []Span
	for i := 0; i < len(b); {
		if !isDigit(b[i]) {
			i++
			continue
		}
		j := i
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if (i > 0 && isLetter(b[i-1])) || (j < len(b) && isLetter(b[j]) && b[j] != 'X' && b[j] != 'x') ||
			(j+1 < len(b) && (b[j] == 'X' || b[j] == 'x') && isAlnum(b[j+1])) {
			i = j // part of a longer token
			continue
		}
		n := j - i
		switch {
		case n == 18 && residentID(b[i:j]):
			out = append(out, Span{i, b[i:j]})
		case n == 17 && j < len(b) && (b[j] == 'X' || b[j] == 'x') && residentID(b[i:j+1]):
			out = append(out, Span{i, b[i : j+1]})
			j++
		case n == 11 && mobile(b[i:j]):
			out = append(out, Span{i, b[i:j]})
		case n == 13 && b[i] == '8' && b[i+1] == '6' && mobile(b[i+2:j]):
			out = append(out, Span{i + 2, b[i+2 : j]})
		}
		i = j
	}
	return out
}

// Mask hides, in place, the personal numbers Find finds as a bill prints
// them (security.md PI-1): an ID number keeps its first 6 and last 4
// characters (350203********1234), a mobile number its first 3 and last 4
// (138****5678). The length of b does not change.
func Mask(b []byte) {
	for _, sp := range Find(b) {
		keepHead, keepTail := 3, 4
		if len(sp.Raw) > 11 {
			keepHead = 6
		}
		for i := keepHead; i < len(sp.Raw)-keepTail; i++ {
			b[sp.Off+i] = '*'
		}
	}
}

// MaskText is Mask on a copy of s.
func MaskText(s string) string {
	b := []byte(s)
	Mask(b)
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isAlnum(c byte) bool { return isDigit(c) || isLetter(c) }

func mobile(d []byte) bool { return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9' }

func residentID(id []byte) bool {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(id[i]-'0') * w
	}
	got := id[17]
	if got == 'x' {
		got = 'X'
	}
	return got == "10X98765432"[sum%11]
}

// Seal returns content with every personal number masked, and the sealed
// originals; sealed is nil when content holds none (and masked is content).
// ad binds the sealed part to its row (the bill's id).
func (s *Sealer) Seal(content, ad []byte) (masked, sealed []byte) {
	spans := Find(content)
	if len(spans) == 0 {
		return content, nil
	}
	masked = bytes.Clone(content)
	var plain []byte
	last := 0
	for _, sp := range spans {
		plain = binary.AppendUvarint(plain, uint64(sp.Off-last))
		plain = binary.AppendUvarint(plain, uint64(len(sp.Raw)))
		plain = append(plain, sp.Raw...)
		for k := range sp.Raw {
			masked[sp.Off+k] = '0'
		}
		last = sp.Off
	}
	k := s.keys[0]
	head := append([]byte{version}, k.id[:]...)
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	sealed = append(head, nonce...)
	return masked, k.aead.Seal(sealed, nonce, plain, append(head, ad...))
}

// Open puts the sealed originals back into masked content. A nil sealed
// returns masked as it is.
func (s *Sealer) Open(masked, sealed, ad []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return masked, nil
	}
	if len(sealed) < 5 || sealed[0] != version {
		return nil, errors.New("pii: sealed data of unknown format")
	}
	head := sealed[:5]
	var k *sealKey
	for i := range s.keys {
		if bytes.Equal(s.keys[i].id[:], head[1:5]) {
			k = &s.keys[i]
		}
	}
	if k == nil {
		return nil, ErrKey
	}
	ns := k.aead.NonceSize()
	if len(sealed) < 5+ns {
		return nil, errors.New("pii: sealed data too short")
	}
	plain, err := k.aead.Open(nil, sealed[5:5+ns], sealed[5+ns:], append(bytes.Clone(head), ad...))
	if err != nil {
		return nil, fmt.Errorf("pii: open: %w", err)
	}
	out := bytes.Clone(masked)
	off := 0
	for len(plain) > 0 {
		d, n1 := binary.Uvarint(plain)
		l, n2 := binary.Uvarint(plain[max(n1, 0):])
		if n1 <= 0 || n2 <= 0 {
			return nil, errors.New("pii: sealed spans damaged")
		}
		plain = plain[n1+n2:]
		off += int(d)
		if uint64(len(plain)) < l || off+int(l) > len(out) {
			return nil, errors.New("pii: sealed spans do not fit the content")
		}
		copy(out[off:], plain[:l])
		plain = plain[l:]
	}
	return out, nil
}

// ReadOrMakeKey reads the 16-byte key at path, or makes one there (0600, in
// a directory made for it only the service can enter) when there is none.
func ReadOrMakeKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, KeySize)
		rand.Read(key)
		if err := WriteNewKeyFile(path, key); errors.Is(err, os.ErrExist) { // another process made it a moment ago
			return ReadOrMakeKey(path)
		} else if err != nil {
			return nil, err
		}
		return key, nil
	}
	if err != nil {
		return nil, err
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("key file %s: %d bytes, want %d", path, len(key), KeySize)
	}
	return key, nil
}

// WriteNewKeyFile writes a key file that does not exist yet (os.ErrExist
// when it does), private to the service, in a private directory.
func WriteNewKeyFile(path string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
