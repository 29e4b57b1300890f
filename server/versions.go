package server

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/sync/wire"
)

// The stations' program versions (issue 20): each reports its version; the
// administrator may require a minimum, below which the sync API answers
// with a message saying what to install. Upgrading the server first or the
// stations first both work: a newer station talks to an older server
// (which ignores what it does not know), an older station to a newer one.

// StationVersion is what a station last reported.
type StationVersion struct {
	Point    string    `json:"point"`
	Name     string    `json:"name"`
	Version  string    `json:"version"`
	LastSeen time.Time `json:"lastSeen,omitzero"`
	Below    bool      `json:"below"` // below the minimum
}

const settingMinStation = "min_station_version"

type minVersionCache struct {
	mu    sync.Mutex
	value string
	at    time.Time
}

// MinStationVersion is the minimum the sync API requires ("" for none),
// read at most every two seconds.
func (s *Store) MinStationVersion(ctx context.Context) (string, error) {
	c := &s.minVersion
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < 2*time.Second {
		return c.value, nil
	}
	var v string
	err := s.queryRow(ctx, "SELECT value FROM server_settings WHERE key = ?", settingMinStation).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	c.value, c.at = v, time.Now()
	return v, nil
}

// SetMinStationVersion sets the minimum ("" removes it).
func (s *Store) SetMinStationVersion(ctx context.Context, v string) error {
	if _, err := s.authorize(ctx, PermPointManage); err != nil {
		return err
	}
	v = strings.TrimSpace(v)
	if v != "" && len(versionNumbers(v)) == 0 {
		return bill.Errorf(bill.EInvalid, "版本号 %q 不正确，应形如 0.19.400。", Truncate(v, 40))
	}
	err := s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, "DELETE FROM server_settings WHERE key = ?", settingMinStation); err != nil {
			return err
		}
		if v != "" {
			if _, err := t.exec(ctx, "INSERT INTO server_settings (key, value) VALUES (?, ?)", settingMinStation, v); err != nil {
				return err
			}
		}
		return t.audit(ctx, "station.min_version", v, nil)
	})
	s.minVersion.mu.Lock()
	s.minVersion.at = time.Time{}
	s.minVersion.mu.Unlock()
	return err
}

func versionNumbers(v string) string {
	if wire.CompareVersions(v, "") > 0 {
		return v
	}
	return ""
}

// StationVersions lists each station point's reported version.
func (s *Store) StationVersions(ctx context.Context) ([]StationVersion, error) {
	if _, err := s.authorize(ctx, PermPointManage); err != nil {
		return nil, err
	}
	minimum, err := s.MinStationVersion(ctx)
	if err != nil {
		return nil, err
	}
	points, err := s.Points(ctx)
	if err != nil {
		return nil, err
	}
	reports, err := s.StationReports(ctx)
	if err != nil {
		return nil, err
	}
	var out []StationVersion
	for _, p := range points {
		if p.Kind != PointStation {
			continue
		}
		r := reports[p.Code]
		v := StationVersion{Point: p.Code, Name: p.Name, Version: r.Version, LastSeen: r.At}
		v.Below = minimum != "" && wire.CompareVersions(v.Version, minimum) < 0
		out = append(out, v)
	}
	return out, nil
}
