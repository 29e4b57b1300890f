package server

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/sync/wire"
)

// Point kinds.
const (
	PointStation = "station" // a cashier PC issuing offline from its segments
	PointServer  = "server"  // issued on the server (HIS calls), from segments like any point
)

// EnrollCodeTTL is how long an enrollment code stays usable.
const EnrollCodeTTL = 24 * time.Hour

// Point is a billing point (开票点).
type Point struct {
	Code       string        `json:"code"`
	Name       string        `json:"name"`
	Kind       string        `json:"kind"`
	Settings   wire.Settings `json:"settings"`
	PublicKey  string        `json:"publicKey,omitempty"`
	EnrolledAt time.Time     `json:"enrolledAt,omitzero"`
	RevokedAt  time.Time     `json:"revokedAt,omitzero"`
	DisabledAt time.Time     `json:"disabledAt,omitzero"` // 停用: no new numbers; uploads still accepted
	Epoch      int64         `json:"epoch"`
	ChainSeq   int64         `json:"chainSeq"`
	ChainHash  string        `json:"chainHash"`
}

// Active reports whether a station is enrolled and not revoked.
func (p *Point) Active() bool { return p.PublicKey != "" && p.RevokedAt.IsZero() }

// AddPoint creates a billing point with the default settings.
func (s *Store) AddPoint(ctx context.Context, code, name, kind string) error {
	code = strings.TrimSpace(code)
	if code == "" || len(code) > 50 || strings.ContainsAny(code, " \t\r\n") {
		return bill.Errorf(bill.EInvalid, "开票点编码 %q 不正确：不能为空、不能含空格、不超过50个字符。", code)
	}
	if name == "" {
		return bill.Errorf(bill.EInvalid, "请填写开票点名称（--name）。")
	}
	if kind != PointStation && kind != PointServer {
		return bill.Errorf(bill.EInvalid, "开票点类型应为 station（收费电脑）或 server（服务器开票），收到 %q", kind)
	}
	settings, _ := json.Marshal(wire.DefaultSettings)
	err := s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, `INSERT INTO points (code, name, kind, settings, chain_hash, created_at) VALUES (?,?,?,?,?,?)`,
			code, name, kind, string(settings), bill.GenesisHash, s.millis()); err != nil {
			return err
		}
		return t.audit(ctx, "point.add", code, map[string]string{"name": name, "kind": kind})
	})
	if errors.Is(err, ErrConflict) {
		return bill.Errorf(bill.EConflict, "开票点 %s 已存在。", code)
	}
	return err
}

// EditPoint renames a point and replaces its settings (the console's form).
func (s *Store) EditPoint(ctx context.Context, code, name string, st wire.Settings) error {
	if _, err := s.authorize(ctx, PermPointManage); err != nil {
		return err
	}
	if name == "" || len([]rune(name)) > 50 {
		return bill.Errorf(bill.EInvalid, "请填写开票点名称，不超过 50 个字。")
	}
	if err := s.SetPointSettings(ctx, code, st); err != nil {
		return err
	}
	return s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, "UPDATE points SET name = ? WHERE code = ?", name, code); err != nil {
			return err
		}
		return t.audit(ctx, "point.rename", code, map[string]string{"name": name})
	})
}

// SetPointSettings replaces a point's settings.
func (s *Store) SetPointSettings(ctx context.Context, code string, st wire.Settings) error {
	if st.SegmentSize < 1 || st.SegmentSize > 1_000_000 || st.RefillThreshold < 0 || st.StockAlert < 0 {
		return bill.Errorf(bill.EInvalid, "号段大小应在 1 至 1000000 之间，补号阈值和预警阈值不能为负数。")
	}
	if st.MaxHeld != 0 && (st.MaxHeld < st.SegmentSize || st.MaxHeld > 10_000_000) {
		return bill.Errorf(bill.EInvalid, "持有号码上限应为 0（号段大小的 3 倍）或不小于号段大小 %d、不超过 1000 万。", st.SegmentSize)
	}
	l := st.Limits
	if l.MaxHours < 0 || l.MaxCount < 0 || l.MaxAmount < 0 || l.MaxSingle < 0 || l.MaxAmount > bill.MaxMoney || l.MaxSingle > bill.MaxMoney {
		return bill.Errorf(bill.EInvalid, "离线额度不能为负数，金额不能超过 %s 元。", bill.MaxMoney)
	}
	b, _ := json.Marshal(st)
	return s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "UPDATE points SET settings = ? WHERE code = ?", string(b), code)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "开票点 "+code); err != nil {
			return err
		}
		return t.audit(ctx, "point.settings", code, st)
	})
}

func mustAffect(res sql.Result, what string) error {
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return bill.Errorf(bill.ENotFound, "未找到%s。", what)
	}
	return nil
}

const pointCols = `SELECT code, name, kind, settings, COALESCE(public_key, ''), enrolled_at, revoked_at, disabled_at, epoch, chain_seq, chain_hash FROM points`

func scanPoint(r interface{ Scan(...any) error }) (*Point, error) {
	var p Point
	var settings string
	var enrolled, revoked, disabled sql.NullInt64
	if err := r.Scan(&p.Code, &p.Name, &p.Kind, &settings, &p.PublicKey, &enrolled, &revoked, &disabled, &p.Epoch, &p.ChainSeq, &p.ChainHash); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(settings), &p.Settings); err != nil {
		return nil, err
	}
	if enrolled.Valid {
		p.EnrolledAt = time.UnixMilli(enrolled.Int64).UTC()
	}
	if revoked.Valid {
		p.RevokedAt = time.UnixMilli(revoked.Int64).UTC()
	}
	if disabled.Valid {
		p.DisabledAt = time.UnixMilli(disabled.Int64).UTC()
	}
	return &p, nil
}

// SetPointDisabled stops (停用) or restarts a billing point. A disabled
// point is given no new numbers and no paper; what its station issued
// before is still accepted, so nothing issued is lost.
func (s *Store) SetPointDisabled(ctx context.Context, code string, disabled bool) error {
	if _, err := s.authorize(ctx, PermPointManage); err != nil {
		return err
	}
	return s.tx(ctx, func(t *dbtx) error {
		var at any
		action := "point.enable"
		if disabled {
			at, action = s.millis(), "point.disable"
		}
		res, err := t.exec(ctx, "UPDATE points SET disabled_at = ? WHERE code = ?", at, code)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "开票点 "+code); err != nil {
			return err
		}
		return t.audit(ctx, action, code, nil)
	})
}

// Point returns one billing point; ENotFound if unknown.
func (s *Store) Point(ctx context.Context, code string) (*Point, error) {
	p, err := scanPoint(s.queryRow(ctx, pointCols+" WHERE code = ?", code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "未找到开票点 %s。", code)
	}
	return p, err
}

// Points lists every billing point.
func (s *Store) Points(ctx context.Context) ([]*Point, error) {
	rows, err := s.query(ctx, pointCols+" ORDER BY code")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Point
	for rows.Next() {
		p, err := scanPoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// EnrollCode issues a one-time code with which a station enrolls as the
// point. A point whose station is active must be revoked first.
func (s *Store) EnrollCode(ctx context.Context, point string) (string, time.Time, error) {
	code := randomCode(8)
	expires := s.now().Add(EnrollCodeTTL).UTC()
	err := s.tx(ctx, func(t *dbtx) error {
		p, err := scanPoint(t.queryRow(ctx, pointCols+" WHERE code = ?", point))
		if errors.Is(err, sql.ErrNoRows) {
			return bill.Errorf(bill.ENotFound, "未找到开票点 %s；请先执行 point add。", point)
		}
		if err != nil {
			return err
		}
		if p.Kind != PointStation {
			return bill.Errorf(bill.EInvalid, "开票点 %s 是服务器开票点，无需注册收费电脑。", point)
		}
		if p.Active() {
			return bill.Errorf(bill.EConflict, "开票点 %s 已有注册的收费电脑；如需更换，请先执行 point revoke %s。", point, point)
		}
		if _, err = t.exec(ctx, "INSERT INTO enroll_codes (code, point_code, expires_at) VALUES (?,?,?)", code, point, expires.UnixMilli()); err != nil {
			return err
		}
		return t.audit(ctx, "point.enroll_code", point, map[string]any{"expiresAt": expires})
	})
	return code, expires, err
}

// Revoke withdraws a point's station: its key is no longer accepted. Bills
// it already uploaded stay in the ledger.
func (s *Store) Revoke(ctx context.Context, point string) error {
	return s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "UPDATE points SET revoked_at = ? WHERE code = ? AND public_key IS NOT NULL AND revoked_at IS NULL",
			s.millis(), point)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "已注册且未撤销的开票点 "+point); err != nil {
			return err
		}
		return t.audit(ctx, "point.revoke", point, nil)
	})
}

// Enroll registers a station's public key with a one-time code and gives it
// its point's identity, settings, bill kinds and first segments.
func (s *Store) Enroll(ctx context.Context, req wire.EnrollRequest) (*wire.EnrollResponse, error) {
	pub, err := bill.ParsePublicKeyPEM(req.PublicKey)
	if err != nil {
		return nil, err
	}
	if !pub.Verify([]byte(req.Code), req.Proof) {
		return nil, bill.Errorf(bill.EInvalid, "注册请求的签名无效。")
	}
	var resp *wire.EnrollResponse
	err = s.tx(ctx, func(t *dbtx) error {
		point, err := s.useEnrollCode(ctx, t, req.Code)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `UPDATE points SET public_key = ?, enrolled_at = ?, revoked_at = NULL, epoch = epoch + 1,
			chain_seq = 0, chain_hash = ? WHERE code = ?`, req.PublicKey, s.millis(), bill.GenesisHash, point); err != nil {
			return err
		}
		if err := recordEpoch(ctx, t, point, req.PublicKey, s.millis()); err != nil {
			return err
		}
		if resp, err = s.enrollResponse(ctx, t, point, req.Code); err != nil {
			return err
		}
		return t.audit(ctx, "point.enroll", point, map[string]any{"publicKey": req.PublicKey, "segments": resp.Segments})
	})
	return resp, err
}

func (s *Store) useEnrollCode(ctx context.Context, t *dbtx, code string) (string, error) {
	var point string
	var expires int64
	var used sql.NullInt64
	err := t.queryRow(ctx, "SELECT point_code, expires_at, used_at FROM enroll_codes WHERE code = ?"+s.forUpdate(),
		strings.ToUpper(strings.TrimSpace(code))).Scan(&point, &expires, &used)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", bill.Errorf(bill.ENotFound, "注册码无效，请向票据管理员核对。")
	case err != nil:
		return "", err
	case used.Valid:
		return "", bill.Errorf(bill.EConflict, "注册码已使用过，不能重复使用；请向票据管理员申请新的注册码。")
	case s.millis() > expires:
		return "", bill.Errorf(bill.EInvalid, "注册码已过期，请向票据管理员申请新的注册码。")
	}
	_, err = t.exec(ctx, "UPDATE enroll_codes SET used_at = ? WHERE code = ?", s.millis(), strings.ToUpper(strings.TrimSpace(code)))
	return point, err
}

// enrollResponse gathers what a new station gets, allocating a first
// segment of each bill code the unit issues under (where stock exists).
func (s *Store) enrollResponse(ctx context.Context, t *dbtx, point, code string) (*wire.EnrollResponse, error) {
	p, err := scanPoint(t.queryRow(ctx, pointCols+" WHERE code = ?", point))
	if err != nil {
		return nil, err
	}
	resp := &wire.EnrollResponse{PlaceCode: p.Code, PlaceName: p.Name, Settings: p.Settings}
	if err := t.queryRow(ctx, "SELECT name, credit_code FROM unit WHERE id = 1").Scan(&resp.UnitName, &resp.UnitCreditCode); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	// The server kinds (deposit vouchers, general bills) are issued by
	// server points only.
	rows, err := t.query(ctx, "SELECT kind, bill_code FROM bill_kinds WHERE kind IN ("+quotedKinds(bill.Kinds)+") ORDER BY kind")
	if err != nil {
		return nil, err
	}
	codes := map[string]bool{}
	var order []string
	for rows.Next() {
		var k wire.BillKind
		if err := rows.Scan(&k.Kind, &k.BillCode); err != nil {
			rows.Close()
			return nil, err
		}
		resp.BillKinds = append(resp.BillKinds, k)
		if !codes[k.BillCode] {
			codes[k.BillCode] = true
			order = append(order, k.BillCode)
		}
	}
	rows.Close()
	if len(order) == 0 {
		return nil, bill.Errorf(bill.ENoStock, "尚未配置票据种类及票据代码，无法注册；请先执行 ebill-server kind set。")
	}
	for _, billCode := range order {
		seg, _, err := s.allocateTx(ctx, t, p, billCode, "enroll-"+code+"-"+billCode)
		var be *bill.Error
		if errors.As(err, &be) && be.Code == bill.ENoStock {
			continue
		}
		if err != nil {
			return nil, err
		}
		resp.Segments = append(resp.Segments, seg)
	}
	if len(resp.Segments) == 0 {
		return nil, bill.Errorf(bill.ENoStock, "没有可分配的电子票据号码，无法注册；请先执行 ebill-server stock receive 入库。")
	}
	resp.MasterData, err = s.masterDataTx(ctx, t, point)
	return resp, err
}

// randomCode makes an enrollment code from characters that cannot be
// mistaken for one another when read aloud or typed (no 0/O, 1/I).
func randomCode(n int) string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Pull gathers what a station keeps in step with: its settings, the bill
// kinds, and every segment allocated to it.
func (s *Store) Pull(ctx context.Context, point string, since int64) (*wire.PullResponse, error) {
	p, err := s.Point(ctx, point)
	if err != nil {
		return nil, err
	}
	resp := &wire.PullResponse{Settings: p.Settings}
	kinds, err := s.BillKinds(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range bill.Kinds {
		if c, ok := kinds[k]; ok {
			resp.BillKinds = append(resp.BillKinds, wire.BillKind{Kind: k, BillCode: c})
		}
	}
	// Only this enrollment's segments: a re-enrolled point's new station does
	// not get the old station's numbers. (No usage counts: pulls are frequent.)
	rows, err := s.query(ctx, `SELECT id, bill_code, start_no, end_no FROM segments WHERE point_code = ? AND epoch = ?
		ORDER BY bill_code, start_no`, point, p.Epoch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sg wire.Segment
		if err := rows.Scan(&sg.ID, &sg.BillCode, &sg.Start, &sg.End); err != nil {
			return nil, err
		}
		resp.Segments = append(resp.Segments, sg)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	resp.MasterData, err = s.MasterDataSince(ctx, point, since)
	return resp, err
}

// ReportStatus records what a station last said about itself, and how far
// its clock was from the server's (skew: server time − station time).
func (s *Store) ReportStatus(ctx context.Context, point string, st wire.StationStatus, skew time.Duration) error {
	reads := st.Read
	st.Read = nil
	st.LastError, st.Version = Truncate(st.LastError, 500), Truncate(st.Version, 50)
	b, _ := json.Marshal(struct {
		wire.StationStatus
		At     int64 `json:"at"`
		SkewMs int64 `json:"skewMs"`
	}{st, s.millis(), skew.Milliseconds()})
	return s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, "UPDATE points SET status = ? WHERE code = ?", string(b), point)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "开票点 "+point); err != nil {
			return err
		}
		return recordReads(ctx, t, point, reads)
	})
}

// quotedKinds lists kinds as SQL string literals ('outpatient','inpatient'…),
// for the kind constants only.
func quotedKinds(kinds []bill.Kind) string {
	q := make([]string, len(kinds))
	for i, k := range kinds {
		q[i] = "'" + string(k) + "'"
	}
	return strings.Join(q, ",")
}

// StationReport is what a station last said about itself, and when: at
// every sync, so At is its last sync.
type StationReport struct {
	wire.StationStatus
	At    time.Time     `json:"at"`
	Skew  time.Duration `json:"skew"`  // server clock − station clock at the report
	Paper int64         `json:"paper"` // paper uses the server refused, in all
}

// Silent reports whether the station has not synced for longer than d.
func (r StationReport) Silent(now time.Time, d time.Duration) bool { return now.Sub(r.At) > d }

// SkewText is the clock difference as people read it.
func (r StationReport) SkewText() string {
	d := r.Skew.Round(time.Second)
	switch {
	case d == 0:
		return "0 秒"
	case d > 0:
		return "慢 " + d.String()
	default:
		return "快 " + (-d).String()
	}
}

// StationReports are the stations' last reports, by point code (points
// never heard from are absent).
func (s *Store) StationReports(ctx context.Context) (map[string]StationReport, error) {
	rows, err := s.query(ctx, "SELECT code, status FROM points WHERE status IS NOT NULL AND status <> ''")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]StationReport{}
	for rows.Next() {
		var code, raw string
		if err := rows.Scan(&code, &raw); err != nil {
			return nil, err
		}
		var r struct {
			wire.StationStatus
			At     int64 `json:"at"`
			SkewMs int64 `json:"skewMs"`
		}
		if json.Unmarshal([]byte(raw), &r) != nil || r.At == 0 {
			continue // never reported ('{}')
		}
		out[code] = StationReport{StationStatus: r.StationStatus, At: time.UnixMilli(r.At).UTC(), Skew: time.Duration(r.SkewMs) * time.Millisecond}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if rows, err = s.query(ctx, "SELECT point_code, COUNT(*) FROM paper_conflicts GROUP BY point_code"); err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		var n int64
		if err := rows.Scan(&code, &n); err != nil {
			return nil, err
		}
		r := out[code]
		r.Paper = n
		out[code] = r
	}
	return out, rows.Err()
}

// recordEpoch keeps the public key of the enrollment the point has just
// begun (the epoch the UPDATE before it moved to), for verifying its
// bills later.
func recordEpoch(ctx context.Context, t *dbtx, point, publicKey string, at int64) error {
	_, err := t.exec(ctx, `INSERT INTO point_epochs (point_code, epoch, public_key, enrolled_at)
		SELECT code, epoch, ?, ? FROM points WHERE code = ?`, publicKey, at, point)
	return err
}
