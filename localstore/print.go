package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"

	"github.com/ebill/ebill/bill"
)

// Print settings are this PC's own: its printers and where its QR codes
// point. They do not come from the server and do not affect issuing.
const (
	settingDefaultPrinter = "print.default_printer"
	settingVerifyBase     = "print.verify_base_url"
	settingOffsetPrefix   = "print.offset."
	settingTemplatePrefix = "print.template."
	sourceLocal           = "local"
)

// PrinterOffset is a printer's calibration in mm (positive: right, down).
type PrinterOffset struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// MaxPrinterOffset bounds a calibration offset: more than 5 cm means the
// paper is loaded wrongly, not that the printer needs calibrating.
const MaxPrinterOffset = 50

func (s *Store) localSetting(ctx context.Context, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, source, updated_at) VALUES (?,?,?,?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, source = excluded.source, updated_at = excluded.updated_at`,
			key, string(raw), sourceLocal, nowMillis(s.now()))
		return err
	})
}

// readSetting decodes a setting into v; found is false when it is unset.
func (s *Store) readSetting(ctx context.Context, key string, v any) (found bool, err error) {
	var raw string
	err = s.read.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return false, fmt.Errorf("localstore: setting %s: %w", key, err)
	}
	return true, nil
}

// SetDefaultPrinter chooses the printer used when none is named.
func (s *Store) SetDefaultPrinter(ctx context.Context, name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return bill.Errorf(bill.EInvalid, "打印机名称不能为空。")
	}
	return s.localSetting(ctx, settingDefaultPrinter, name)
}

// DefaultPrinter is the chosen default printer, or "".
func (s *Store) DefaultPrinter(ctx context.Context) (string, error) {
	var name string
	_, err := s.readSetting(ctx, settingDefaultPrinter, &name)
	return name, err
}

// SetPrinterOffset stores a printer's calibration offset.
func (s *Store) SetPrinterOffset(ctx context.Context, printer string, off PrinterOffset) error {
	if strings.TrimSpace(printer) == "" {
		return bill.Errorf(bill.EInvalid, "打印机名称不能为空。")
	}
	if math.IsNaN(off.X) || math.IsNaN(off.Y) || math.Abs(off.X) > MaxPrinterOffset || math.Abs(off.Y) > MaxPrinterOffset {
		return bill.Errorf(bill.EInvalid, "偏移量（%.1f, %.1f）毫米过大，上限为 %d 毫米；请检查纸张是否放正、量取是否正确。",
			off.X, off.Y, MaxPrinterOffset)
	}
	off.X, off.Y = math.Round(off.X*10)/10, math.Round(off.Y*10)/10
	return s.localSetting(ctx, settingOffsetPrefix+printer, off)
}

// PrinterOffset is a printer's calibration offset; zero when never calibrated.
func (s *Store) PrinterOffset(ctx context.Context, printer string) (PrinterOffset, error) {
	var off PrinterOffset
	_, err := s.readSetting(ctx, settingOffsetPrefix+printer, &off)
	return off, err
}

// SetPaperTemplate chooses the template (a shipped name or a .json file)
// used to print on the paper bills of paperCode.
func (s *Store) SetPaperTemplate(ctx context.Context, paperCode, template string) error {
	if err := bill.CheckPaperCode(paperCode); err != nil {
		return err
	}
	if strings.TrimSpace(template) == "" {
		return bill.Errorf(bill.EInvalid, "模板名称不能为空。")
	}
	return s.localSetting(ctx, settingTemplatePrefix+paperCode, template)
}

// PaperTemplate is the template chosen for paperCode, or "" for the one
// shipped for the bill's kind.
func (s *Store) PaperTemplate(ctx context.Context, paperCode string) (string, error) {
	var name string
	_, err := s.readSetting(ctx, settingTemplatePrefix+paperCode, &name)
	return name, err
}

// SetVerifyBaseURL sets the public address patients' phones reach the
// server's verification page at, when it differs from the address this
// station syncs with (an intranet address, say).
func (s *Store) SetVerifyBaseURL(ctx context.Context, base string) error {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return bill.Errorf(bill.EInvalid, "查验地址 %q 不正确，应形如 https://pj.example-hospital.cn", base)
	}
	return s.localSetting(ctx, settingVerifyBase, strings.TrimRight(u.String(), "/"))
}

// VerifyBaseURL is where the QR codes of this station's bills point: the
// address set with SetVerifyBaseURL, else the server's address, else ""
// (a station that was never enrolled).
func (s *Store) VerifyBaseURL(ctx context.Context) (string, error) {
	var base string
	found, err := s.readSetting(ctx, settingVerifyBase, &base)
	if err != nil || found {
		return base, err
	}
	st, err := s.Station(ctx)
	if err != nil {
		return "", err
	}
	return st.ServerURL, nil
}
