// Package diag writes the diagnostics bundle support asks for (issue 20):
// a zip of versions, settings without secrets, status, the verify result,
// database statistics and the tails of the logs. Nothing in it may hold a
// secret or personal data: callers add no keys or passwords, and log tails
// have every ID and mobile number masked.
package diag

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/ebill/ebill/internal/pii"
	"github.com/ebill/ebill/internal/private"
)

// Bundle is a diagnostics zip being written.
type Bundle struct {
	f   *os.File
	z   *zip.Writer
	err error
}

// Create starts a bundle at path (0600; it must not exist).
func Create(path string) (*Bundle, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, os.ErrExist
	}
	if err := private.File(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	b := &Bundle{f: f, z: zip.NewWriter(f)}
	b.JSON("program.json", map[string]any{"go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH,
		"cpus": runtime.NumCPU(), "written": time.Now().UTC()})
	return b, nil
}

func (b *Bundle) create(name string) io.Writer {
	if b.err != nil {
		return io.Discard
	}
	w, err := b.z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
	if err != nil {
		b.err = err
		return io.Discard
	}
	return w
}

// JSON adds v as an indented JSON file.
func (b *Bundle) JSON(name string, v any) {
	enc := json.NewEncoder(b.create(name))
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil && b.err == nil {
		b.err = err
	}
}

// Text adds a text file.
func (b *Bundle) Text(name, text string) {
	if _, err := io.WriteString(b.create(name), text); err != nil && b.err == nil {
		b.err = err
	}
}

// LogTail adds the last max bytes of the log at path (if there is one),
// with ID and mobile numbers masked.
func (b *Bundle) LogTail(name, path string, max int64) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		f.Seek(fi.Size()-max, io.SeekStart)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return
	}
	b.Text(name, string(Mask(data)))
}

// Mask replaces the digits of every ID and mobile number in data by '*'.
func Mask(data []byte) []byte {
	for _, sp := range pii.Find(data) {
		for i := range sp.Raw {
			data[sp.Off+i] = '*'
		}
	}
	return data
}

// Close finishes the zip; the first error of any step is returned.
func (b *Bundle) Close() error {
	if err := b.z.Close(); err != nil && b.err == nil {
		b.err = err
	}
	if err := b.f.Close(); err != nil && b.err == nil {
		b.err = err
	}
	return b.err
}
