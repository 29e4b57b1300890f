package server

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
)

// The callers of the HIS interface (server/his): each app's secret, the
// billing points it may act for, its signature order and the addresses it
// may call from.

// DefaultSignOrder is the order of the fields in the signature string.
var DefaultSignOrder = []string{"appid", "data", "noise", "key", "version"}

// signFields are the names a sign order may use.
var signFields = []string{"appid", "data", "noise", "key", "version", "region", "deptcode"}

// HISApp is a registered caller of the medical API.
type HISApp struct {
	AppID     string   `json:"appid"`
	Name      string   `json:"name"`
	Points    []string `json:"points"`
	SignOrder []string `json:"signOrder"`
	AllowFrom []string `json:"allowFrom,omitempty"` // IPs and CIDR ranges it may call from; none: anywhere
	Disabled  bool     `json:"disabled"`
	secret    string
}

// MayCallFrom reports whether a request from addr (host:port, or a bare
// IP) may be this app's: its address is in one of the app's ranges, or the
// app has none.
func (a *HISApp) MayCallFrom(addr string) bool {
	if len(a.AllowFrom) == 0 {
		return true
	}
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, r := range a.AllowFrom {
		if p, err := parseAllow(r); err == nil && p.Contains(ip) {
			return true
		}
	}
	return false
}

// parseAllow reads an allowed source: an IP (a range of one) or a CIDR range.
func parseAllow(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()), nil
}

// Secret is the app's signing key.
func (a *HISApp) Secret() string { return a.secret }

// MayActFor reports whether the app may act for point.
func (a *HISApp) MayActFor(point string) bool { return slices.Contains(a.Points, point) }

// AddHISApp registers a caller with its secret and points. An existing
// appid is updated (a new key, other points), audited either way.
func (s *Store) AddHISApp(ctx context.Context, app HISApp, secret string) error {
	app.AppID = strings.TrimSpace(app.AppID)
	if app.AppID == "" || len(app.AppID) > 64 || strings.ContainsAny(app.AppID, " \t&=") {
		return bill.Errorf(bill.EInvalid, "appid 不能为空、不能含空格和 & =，不超过64个字符。")
	}
	if len(secret) < 16 {
		return bill.Errorf(bill.EInvalid, "密钥（--key）至少16个字符。")
	}
	if len(app.Points) == 0 {
		return bill.Errorf(bill.EInvalid, "请用 --points 给出该应用可以开票的开票点。")
	}
	if len(app.SignOrder) == 0 {
		app.SignOrder = DefaultSignOrder
	}
	for _, f := range app.SignOrder {
		if !slices.Contains(signFields, f) {
			return bill.Errorf(bill.EInvalid, "签名字段 %q 不认识，可用：%s", f, strings.Join(signFields, ","))
		}
	}
	if !slices.Contains(app.SignOrder, "key") || !slices.Contains(app.SignOrder, "data") || !slices.Contains(app.SignOrder, "noise") {
		return bill.Errorf(bill.EInvalid, "签名字段必须包含 data、noise 和 key。")
	}
	for _, p := range app.Points {
		if _, err := s.Point(ctx, p); err != nil {
			return err
		}
	}
	for _, r := range app.AllowFrom {
		if _, err := parseAllow(r); err != nil {
			return bill.Errorf(bill.EInvalid, "来源地址 %q 不正确：应为 IP 地址（如 192.168.1.20）或网段（如 192.168.1.0/24）。", r)
		}
	}
	err := s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, `INSERT INTO his_apps (appid, secret, name, points, sign_order, allow_from, disabled, created_at) VALUES (?,?,?,?,?,?,0,?)
			ON CONFLICT (appid) DO UPDATE SET secret = excluded.secret, name = excluded.name, points = excluded.points,
			sign_order = excluded.sign_order, allow_from = excluded.allow_from, disabled = 0`,
			app.AppID, s.sealText(secret, "his_app:"+app.AppID), app.Name, strings.Join(app.Points, ","), strings.Join(app.SignOrder, ","), strings.Join(app.AllowFrom, ","), s.millis()); err != nil {
			return err
		}
		return t.audit(ctx, "his_app.set", app.AppID, map[string]any{"name": app.Name, "points": app.Points, "signOrder": app.SignOrder,
			"allowFrom": app.AllowFrom})
	})
	s.apps.Delete(app.AppID)
	return err
}

// DisableHISApp stops a caller: its calls get E1002 from now on (AddHISApp
// with a new key enables it again).
func (s *Store) DisableHISApp(ctx context.Context, appid string) error {
	err := s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "UPDATE his_apps SET disabled = 1 WHERE appid = ?", appid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bill.Errorf(bill.ENotFound, "没有应用 %s。", appid)
		}
		return t.audit(ctx, "his_app.disable", appid, nil)
	})
	s.apps.Delete(appid)
	return err
}

// HISApps lists the registered callers (without their secrets).
func (s *Store) HISApps(ctx context.Context) ([]HISApp, error) {
	rows, err := s.query(ctx, "SELECT appid, name, points, sign_order, allow_from, disabled FROM his_apps ORDER BY appid")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HISApp
	for rows.Next() {
		var a HISApp
		var points, order, allow string
		var disabled int
		if err := rows.Scan(&a.AppID, &a.Name, &points, &order, &allow, &disabled); err != nil {
			return nil, err
		}
		a.Points, a.SignOrder, a.AllowFrom, a.Disabled = strings.Split(points, ","), strings.Split(order, ","), splitNonEmpty(allow), disabled != 0
		out = append(out, a)
	}
	return out, rows.Err()
}

// LookupHISApp returns one caller with its secret (ENotFound when
// unknown), from a cache of a few seconds: every call of the API asks for it.
func (s *Store) LookupHISApp(ctx context.Context, appid string) (*HISApp, error) {
	var a *HISApp
	if c, ok := s.apps.Load(appid); ok && time.Since(c.(*cachedApp).at) < hisAppCacheTTL {
		a = c.(*cachedApp).app
	} else {
		var err error
		if a, err = s.loadHISApp(ctx, appid); err != nil {
			return nil, err
		}
		s.apps.Store(appid, &cachedApp{app: a, at: time.Now()}) // nil too: unknown callers ask again and again
	}
	if a == nil {
		return nil, bill.Errorf(bill.ENotFound, "应用账号不存在。")
	}
	return a, nil
}

// hisAppCacheTTL is how long a caller's row is trusted without reading it again.
const hisAppCacheTTL = 5 * time.Second

type cachedApp struct {
	app *HISApp
	at  time.Time
}

// loadHISApp reads a caller; nil, without an error, when unknown (the
// cache keeps that answer too).
func (s *Store) loadHISApp(ctx context.Context, appid string) (*HISApp, error) {
	var a HISApp
	var points, order, allow string
	var disabled int
	err := s.queryRow(ctx, "SELECT appid, secret, name, points, sign_order, allow_from, disabled FROM his_apps WHERE appid = ?", appid).
		Scan(&a.AppID, &a.secret, &a.Name, &points, &order, &allow, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a.Points, a.SignOrder, a.AllowFrom, a.Disabled = strings.Split(points, ","), strings.Split(order, ","), splitNonEmpty(allow), disabled != 0
	if a.secret, err = s.openTextErr(a.secret, "his_app:"+a.AppID); err != nil {
		return nil, err
	}
	return &a, nil
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// SetHISAppAllowFrom sets the addresses an app may call from (security
// administrator); none: anywhere.
func (s *Store) SetHISAppAllowFrom(ctx context.Context, appid string, allow []string) error {
	if _, err := s.authorize(ctx, PermHISApps); err != nil {
		return err
	}
	for _, r := range allow {
		if _, err := parseAllow(r); err != nil {
			return bill.Errorf(bill.EInvalid, "来源地址 %q 不正确：应为 IP 地址（如 192.168.1.20）或网段（如 192.168.1.0/24）。", r)
		}
	}
	err := s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "UPDATE his_apps SET allow_from = ? WHERE appid = ?", strings.Join(allow, ","), appid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bill.Errorf(bill.ENotFound, "没有应用 %s。", appid)
		}
		return t.audit(ctx, "his_app.allow_from", appid, map[string]any{"allowFrom": allow})
	})
	s.apps.Delete(appid)
	return err
}
