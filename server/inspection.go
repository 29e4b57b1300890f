package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
)

// 巡检报告 and 运维日志 (console.md 运维): a report of the server's health,
// on demand and daily — each item 正常, 异常 or 未检查, with what was seen —
// kept and listed; and the maintenance log of what IT checked and did,
// each entry linked to a report when it answers one.

// Inspection item states.
const (
	InspectOK      = "ok"
	InspectBad     = "bad"
	InspectUnknown = "unknown"
)

// InspectItem is one line of a report.
type InspectItem struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// StatusName is the state as the report prints it.
func (i InspectItem) StatusName() string {
	return map[string]string{InspectOK: "正常", InspectBad: "异常", InspectUnknown: "未检查"}[i.Status]
}

// InspectEnv is what the store cannot know by itself: the program's
// version and start, its data folder, the TLS certificate's end and the
// HIS calls so far (all and failed).
type InspectEnv struct {
	Version    string
	Started    time.Time
	DataDir    string
	CertExpiry func() (time.Time, bool)
	HISCalls   func() (total, failed int64)
}

// SetInspectEnv gives the store what its reports need from the program.
func (s *Store) SetInspectEnv(env InspectEnv) { s.inspectEnv.Store(&env) }

// Inspection is one report.
type Inspection struct {
	ID        string        `json:"id"`
	Kind      string        `json:"kind"` // manual, daily
	Actor     string        `json:"actor"`
	At        time.Time     `json:"at"`
	Items     []InspectItem `json:"items"`
	Anomalies int           `json:"anomalies"`
	DBSize    int64         `json:"dbSize"`
	HISTotal  int64         `json:"hisTotal"`
	HISFailed int64         `json:"hisFailed"`
}

// KindName is 手动 or 每日.
func (r *Inspection) KindName() string {
	if r.Kind == "daily" {
		return "每日自动"
	}
	return "手动"
}

// Bad are the report's anomalies.
func (r *Inspection) Bad() []InspectItem {
	var out []InspectItem
	for _, it := range r.Items {
		if it.Status == InspectBad {
			out = append(out, it)
		}
	}
	return out
}

// durationText is a duration as people read it: 2 天 3 小时 5 分.
func durationText(d time.Duration) string {
	m := int64(d.Round(time.Minute) / time.Minute)
	if m >= 24*60 {
		return fmt.Sprintf("%d 天 %d 小时 %d 分", m/(24*60), m%(24*60)/60, m%60)
	}
	return fmt.Sprintf("%d 小时 %d 分", m/60, m%60)
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// Inspect makes a report now and keeps it; kind is manual or daily.
func (s *Store) Inspect(ctx context.Context, kind string) (*Inspection, error) {
	if _, err := s.authorize(ctx, PermInspect); err != nil {
		return nil, err
	}
	var env InspectEnv
	if e := s.inspectEnv.Load(); e != nil {
		env = *e
	}
	// The checks read what their own permissions guard: they run as the system.
	sys := WithActor(ctx, Actor{Who: "system:inspection", From: "local", System: true})
	now := s.now()
	r := &Inspection{ID: uuid.Must(uuid.NewV7()).String(), Kind: kind, Actor: personOf(ctx), At: now.UTC().Truncate(time.Millisecond)}
	prev, err := s.lastInspection(ctx)
	if err != nil {
		return nil, err
	}
	add := func(name, status, detail string) { r.Items = append(r.Items, InspectItem{name, status, detail}) }

	version := env.Version
	if version == "" {
		version = "未知"
	}
	if env.Started.IsZero() {
		add("服务器版本与运行时间", InspectOK, "版本 "+version+"（由命令行巡检，运行时间见服务器）")
	} else {
		add("服务器版本与运行时间", InspectOK, fmt.Sprintf("版本 %s，已运行 %s", version, durationText(now.Sub(env.Started))))
	}

	sizeQ := "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
	if s.dialect == Postgres {
		sizeQ = "SELECT pg_database_size(current_database())"
	}
	if err := s.queryRow(ctx, sizeQ).Scan(&r.DBSize); err != nil {
		return nil, err
	}
	growth := "（首次巡检）"
	if prev != nil {
		growth = fmt.Sprintf("，比上次巡检（%s）增长 %s", prev.At.In(bill.Beijing).Format("01-02 15:04"), mb(r.DBSize-prev.DBSize))
	}
	add("数据库大小与增长", InspectOK, "数据库 "+mb(r.DBSize)+growth)

	if s.dialect == Postgres {
		add("数据备份", InspectUnknown, "PostgreSQL 由数据库管理员用 pg_dump 或物理备份，本系统无记录；请在运维日志中记下最近一次备份")
	} else {
		var at sql.NullInt64
		if err := s.queryRow(ctx, "SELECT MAX(at) FROM backup_log").Scan(&at); err != nil {
			return nil, err
		}
		switch {
		case !at.Valid:
			add("数据备份", InspectBad, "从未备份；请执行 ebill-server backup --to 备份文件，并安排每日备份")
		case now.Sub(time.UnixMilli(at.Int64)) > 26*time.Hour:
			add("数据备份", InspectBad, "最近一次备份在 "+time.UnixMilli(at.Int64).In(bill.Beijing).Format("2006-01-02 15:04")+"，已超过一天")
		default:
			add("数据备份", InspectOK, "最近一次备份在 "+time.UnixMilli(at.Int64).In(bill.Beijing).Format("2006-01-02 15:04"))
		}
	}
	add("恢复演练", InspectUnknown, "尚无恢复演练记录：请定期把备份恢复到另一台机器核对，并记入运维日志")

	if n, err := s.VerifyAudit(sys); err != nil {
		add("审计日志完整性", InspectBad, "校验未通过："+bill.ErrorMessage(err))
	} else {
		add("审计日志完整性", InspectOK, fmt.Sprintf("已校验 %d 条记录，链完整", n))
	}

	if env.CertExpiry != nil {
		if end, ok := env.CertExpiry(); ok {
			left := end.Sub(now)
			status := InspectOK
			if left < 30*24*time.Hour {
				status = InspectBad
			}
			add("TLS 证书", status, fmt.Sprintf("到期时间 %s，剩 %d 天", end.In(bill.Beijing).Format("2006-01-02"), int(left.Hours()/24)))
		} else {
			add("TLS 证书", InspectUnknown, "服务器未使用 TLS 证书（或尚未加载）")
		}
	}

	certs, err := s.certificates(ctx)
	if err != nil {
		return nil, err
	}
	var due []string
	for _, c := range certs {
		if !c.Enabled {
			continue
		}
		if e := c.Expires(); !e.IsZero() && e.Sub(now) < 30*24*time.Hour {
			due = append(due, c.No+" 有效期至 "+c.ValidTo)
		}
		if n := c.NextInspection(); !n.IsZero() && n.Sub(now) < 30*24*time.Hour {
			due = append(due, c.No+" 年检 "+n.In(bill.Beijing).Format("2006-01-02"))
		}
	}
	switch {
	case len(due) > 0:
		add("领用证", InspectBad, strings.Join(due, "；"))
	default:
		add("领用证", InspectOK, fmt.Sprintf("%d 张领用证，30 天内无到期或年检", len(certs)))
	}

	lines, err := s.StockReport(sys)
	if err != nil {
		return nil, err
	}
	var low []string
	minDays := -1.0
	for _, l := range lines {
		if l.Alert != "" {
			low = append(low, fmt.Sprintf("%s %s %s：%s", l.KindName(), l.Code, pointOrAll(l.Point), l.Alert))
		}
		if l.Point == "" && l.DaysLeft >= 0 && (minDays < 0 || float64(l.DaysLeft) < minDays) {
			minDays = float64(l.DaysLeft)
		}
	}
	if len(low) > 0 {
		add("票据库存", InspectBad, strings.Join(low, "；"))
	} else if minDays >= 0 {
		add("票据库存", InspectOK, fmt.Sprintf("按近 30 天用量，最紧的票据代码还可用 %.0f 天", minDays))
	} else {
		add("票据库存", InspectOK, "无预警")
	}

	if err := s.inspectStations(ctx, now, add); err != nil {
		return nil, err
	}

	if env.HISCalls != nil {
		r.HISTotal, r.HISFailed = env.HISCalls()
		total, failed := r.HISTotal, r.HISFailed
		since := "服务器启动以来"
		if prev != nil && prev.HISTotal <= total && prev.HISFailed <= failed {
			total, failed, since = total-prev.HISTotal, failed-prev.HISFailed, "上次巡检以来"
		}
		switch {
		case total == 0:
			add("HIS 调用错误率", InspectOK, since+"没有 HIS 调用")
		case failed*100 > total*5:
			add("HIS 调用错误率", InspectBad, fmt.Sprintf("%s %d 次调用，失败 %d 次（%.1f%%），超过 5%%；请查看日志中的失败原因", since, total, failed, float64(failed)*100/float64(total)))
		default:
			add("HIS 调用错误率", InspectOK, fmt.Sprintf("%s %d 次调用，失败 %d 次（%.1f%%）", since, total, failed, float64(failed)*100/float64(total)))
		}
	}

	if env.DataDir != "" {
		free, total, err := diskSpace(env.DataDir)
		switch {
		case err != nil:
			add("磁盘空间", InspectUnknown, "无法读取："+err.Error())
		case free < 2<<30 || free*10 < total:
			add("磁盘空间", InspectBad, fmt.Sprintf("数据目录所在磁盘剩余 %s（共 %s），不足 10%% 或 2 GB", mb(free), mb(total)))
		default:
			add("磁盘空间", InspectOK, fmt.Sprintf("数据目录所在磁盘剩余 %s（共 %s）", mb(free), mb(total)))
		}
	}
	r.Anomalies = len(r.Bad())
	raw, _ := json.Marshal(r.Items)
	err = s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, `INSERT INTO inspections (id, kind, actor, at, items, anomalies, db_size, his_total, his_failed) VALUES (?,?,?,?,?,?,?,?,?)`,
			r.ID, r.Kind, r.Actor, r.At.UnixMilli(), string(raw), r.Anomalies, r.DBSize, r.HISTotal, r.HISFailed); err != nil {
			return err
		}
		return t.audit(ctx, "inspection.run", r.ID, map[string]any{"kind": kind, "anomalies": r.Anomalies})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func pointOrAll(p string) string {
	if p == "" {
		return "全院"
	}
	return "开票点 " + p
}

// inspectStations adds the stations' line: offline, behind, refused
// bills, clock skew.
func (s *Store) inspectStations(ctx context.Context, now time.Time, add func(name, status, detail string)) error {
	points, err := s.Points(ctx)
	if err != nil {
		return err
	}
	reports, err := s.StationReports(ctx)
	if err != nil {
		return err
	}
	var trouble []string
	n := 0
	for _, p := range points {
		if p.Kind != PointStation || !p.Active() || !p.DisabledAt.IsZero() {
			continue
		}
		n++
		r, ok := reports[p.Code]
		var why []string
		switch {
		case !ok:
			why = append(why, "从未同步")
		case r.Silent(now, 4*time.Hour):
			why = append(why, "离线（最近同步 "+r.At.In(bill.Beijing).Format("01-02 15:04")+"）")
		}
		if ok && r.Pending > 0 && r.Silent(now, time.Hour) {
			why = append(why, fmt.Sprintf("待上传 %d 张", r.Pending))
		}
		if ok && r.Rejected > 0 {
			why = append(why, fmt.Sprintf("被拒收 %d 张", r.Rejected))
		}
		if ok && (r.Skew > 5*time.Minute || r.Skew < -5*time.Minute) {
			why = append(why, "时钟"+r.SkewText())
		}
		if len(why) > 0 {
			trouble = append(trouble, p.Code+" "+strings.Join(why, "、"))
		}
	}
	switch {
	case len(trouble) > 0:
		add("收费电脑", InspectBad, strings.Join(trouble, "；"))
	default:
		add("收费电脑", InspectOK, fmt.Sprintf("%d 台在用，都在 4 小时内同步过，无拒收，时钟误差在 5 分钟内", n))
	}
	return nil
}

const inspectionColumns = "id, kind, actor, at, items, anomalies, db_size, his_total, his_failed"

func scanInspection(r interface{ Scan(...any) error }) (*Inspection, error) {
	var x Inspection
	var at int64
	var items string
	if err := r.Scan(&x.ID, &x.Kind, &x.Actor, &at, &items, &x.Anomalies, &x.DBSize, &x.HISTotal, &x.HISFailed); err != nil {
		return nil, err
	}
	x.At = time.UnixMilli(at).UTC()
	if err := json.Unmarshal([]byte(items), &x.Items); err != nil {
		return nil, fmt.Errorf("server: decode inspection: %w", err)
	}
	return &x, nil
}

func (s *Store) lastInspection(ctx context.Context) (*Inspection, error) {
	r, err := scanInspection(s.queryRow(ctx, "SELECT "+inspectionColumns+" FROM inspections ORDER BY at DESC, id DESC LIMIT 1"))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// LastInspection is the latest report, nil when none was made.
func (s *Store) LastInspection(ctx context.Context) (*Inspection, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		if _, err2 := s.authorize(ctx, PermInspect); err2 != nil {
			return nil, err
		}
	}
	return s.lastInspection(ctx)
}

// InspectionReport returns one report.
func (s *Store) InspectionReport(ctx context.Context, id string) (*Inspection, error) {
	if _, err := s.authorize(ctx, PermInspect); err != nil {
		return nil, err
	}
	r, err := scanInspection(s.queryRow(ctx, "SELECT "+inspectionColumns+" FROM inspections WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "没有这份巡检报告。")
	}
	return r, err
}

// Inspections lists the reports, newest first (at most 200).
func (s *Store) Inspections(ctx context.Context) ([]Inspection, error) {
	if _, err := s.authorize(ctx, PermInspect); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, "SELECT "+inspectionColumns+" FROM inspections ORDER BY at DESC, id DESC LIMIT 200")
	return collect(rows, err, scanInspection)
}

// MaintenanceEntry is one line of the maintenance log.
type MaintenanceEntry struct {
	ID       string    `json:"id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Kind     string    `json:"kind"` // check, fix, change, other
	What     string    `json:"what"`
	ReportID string    `json:"reportId"`
}

// MaintenanceKinds are the entry kinds as users read them.
var MaintenanceKinds = map[string]string{"check": "检查", "fix": "故障处理", "change": "变更", "other": "其他"}

// KindName is the kind in Chinese.
func (e *MaintenanceEntry) KindName() string { return MaintenanceKinds[e.Kind] }

// LogMaintenance records what was checked or done, linked to a report
// when reportID is given.
func (s *Store) LogMaintenance(ctx context.Context, kind, what, reportID string) (*MaintenanceEntry, error) {
	if _, err := s.authorize(ctx, PermInspect); err != nil {
		return nil, err
	}
	what, reportID = strings.TrimSpace(what), strings.TrimSpace(reportID)
	switch {
	case MaintenanceKinds[kind] == "":
		return nil, bill.Errorf(bill.EInvalid, "请选择记录类别。")
	case what == "" || utf8.RuneCountInString(what) > 1000:
		return nil, bill.Errorf(bill.EInvalid, "请填写检查或处理的内容（不超过 1000 个字）。")
	}
	e := &MaintenanceEntry{ID: uuid.Must(uuid.NewV7()).String(), At: s.now().UTC().Truncate(time.Millisecond), Actor: personOf(ctx), Kind: kind, What: what, ReportID: reportID}
	var report any
	if reportID != "" {
		if _, err := s.InspectionReport(ctx, reportID); err != nil {
			return nil, err
		}
		report = reportID
	}
	err := s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, "INSERT INTO maintenance_log (id, at, actor, kind, what, report_id) VALUES (?,?,?,?,?,?)",
			e.ID, e.At.UnixMilli(), e.Actor, e.Kind, e.What, report); err != nil {
			return err
		}
		return t.audit(ctx, "maintenance.log", e.ID, map[string]any{"kind": kind, "report": reportID})
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// MaintenanceLog lists the log, newest first (at most 500), of one report
// when reportID is given.
func (s *Store) MaintenanceLog(ctx context.Context, reportID string) ([]MaintenanceEntry, error) {
	if _, err := s.authorize(ctx, PermInspect); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT id, at, actor, kind, what, COALESCE(report_id, '') FROM maintenance_log
		WHERE ? = '' OR report_id = ? ORDER BY at DESC, id DESC LIMIT 500`, reportID, reportID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MaintenanceEntry
	for rows.Next() {
		var e MaintenanceEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Kind, &e.What, &e.ReportID); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// InspectionRunner makes the daily report: at start when the last daily one
// is older than a day, then whenever it becomes so (checked every check).
func (s *Store) InspectionRunner(check time.Duration) Runner {
	return &loopRunner{name: "inspection", every: check, run: func(ctx context.Context) {
		ctx = WithActor(ctx, Actor{Who: "system:inspection", From: "local", System: true})
		var last sql.NullInt64
		if err := s.queryRow(ctx, "SELECT MAX(at) FROM inspections WHERE kind = 'daily'").Scan(&last); err != nil {
			s.log.Error("inspection", "err", err)
			return
		}
		if last.Valid && s.now().Sub(time.UnixMilli(last.Int64)) < 24*time.Hour {
			return
		}
		if r, err := s.Inspect(ctx, "daily"); err != nil {
			s.log.Error("inspection", "err", err)
		} else {
			s.log.Info("daily inspection", "anomalies", r.Anomalies)
		}
	}}
}
