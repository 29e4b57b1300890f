package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/sync/wire"
)

// 消息中心 (console.md): notices to everyone, one billing point or one
// role, with the desks' read receipts; and the automatic reminders the
// server sends itself.

// Message is a notice as the console lists it.
type Message struct {
	ID        string    `json:"id"`
	Point     string    `json:"point"` // "" for every point
	Role      string    `json:"role"`  // "" for every role
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Author    string    `json:"author"`
	Auto      bool      `json:"auto"`
	CreatedAt time.Time `json:"createdAt"`
	// Read receipts: the stations the message went to, and those whose
	// desk has read it.
	Targets []string `json:"targets"`
	ReadBy  []string `json:"readBy"`
}

// ToDesks reports whether stations receive the message: it is for every
// role, or for a role that works at the desk.
func (m *Message) ToDesks() bool { return deskRole(m.Role) }

func deskRole(role string) bool { return role == "" || role == RoleCashier || role == RoleExamNurse }

// Target is who the message is for, in Chinese.
func (m *Message) Target() string {
	var parts []string
	if m.Point != "" {
		parts = append(parts, "开票点 "+m.Point)
	}
	if m.Role != "" {
		parts = append(parts, RoleNames[m.Role])
	}
	if len(parts) == 0 {
		return "全部"
	}
	return strings.Join(parts, "、")
}

// SendMessage posts a notice (发布通知) to everyone, a point or a role.
func (s *Store) SendMessage(ctx context.Context, m Message) (*Message, error) {
	if _, err := s.authorize(ctx, PermUnitManage); err != nil {
		return nil, err
	}
	m.Title, m.Body = strings.TrimSpace(m.Title), strings.TrimSpace(m.Body)
	switch {
	case m.Title == "" || utf8.RuneCountInString(m.Title) > 50:
		return nil, bill.Errorf(bill.EInvalid, "请填写消息标题，不超过 50 个字。")
	case utf8.RuneCountInString(m.Body) > 1000:
		return nil, bill.Errorf(bill.EInvalid, "消息内容不超过 1000 个字。")
	case m.Role != "" && RoleNames[m.Role] == "":
		return nil, bill.Errorf(bill.EInvalid, "未知的角色 %q。", Truncate(m.Role, 20))
	}
	if m.Point != "" {
		if _, err := s.Point(ctx, m.Point); err != nil {
			return nil, err
		}
	}
	m.Author = personOf(ctx)
	err := s.tx(ctx, func(t *dbtx) error {
		id, err := s.insertMessage(ctx, t, m, "")
		m.ID = id
		return err
	})
	return &m, err
}

func (s *Store) insertMessage(ctx context.Context, t *dbtx, m Message, key string) (string, error) {
	v, err := t.nextMasterVersion(ctx)
	if err != nil {
		return "", err
	}
	id := uuid.Must(uuid.NewV7()).String()
	if _, err := t.exec(ctx, `INSERT INTO messages (id, point_code, role, title, body, author, auto_key, created_at, version)
		VALUES (?,?,?,?,?,?,?,?,?)`, id, m.Point, m.Role, m.Title, m.Body, m.Author, key, s.millis(), v); err != nil {
		return "", err
	}
	return id, t.audit(ctx, "message.post", m.Point, map[string]string{"title": m.Title, "role": m.Role, "auto": key})
}

const messageCols = "id, point_code, role, title, body, author, auto_key, created_at"

func scanMessage(r interface{ Scan(...any) error }) (Message, error) {
	var m Message
	var key string
	var at int64
	err := r.Scan(&m.ID, &m.Point, &m.Role, &m.Title, &m.Body, &m.Author, &key, &at)
	m.Auto, m.CreatedAt = key != "", time.UnixMilli(at).UTC()
	return m, err
}

// SentMessages is 发送记录: the last messages with their read receipts.
func (s *Store) SentMessages(ctx context.Context, limit int) ([]Message, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, "SELECT "+messageCols+" FROM messages ORDER BY created_at DESC, id DESC LIMIT ?", limit)
	if err != nil {
		return nil, err
	}
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	points, err := s.Points(ctx)
	if err != nil {
		return nil, err
	}
	for i := range out {
		m := &out[i]
		if !m.ToDesks() {
			continue
		}
		for _, p := range points {
			if p.Kind == PointStation && p.Active() && (m.Point == "" || m.Point == p.Code) {
				m.Targets = append(m.Targets, p.Code)
			}
		}
		reads, err := s.query(ctx, "SELECT point_code FROM message_reads WHERE message_id = ? ORDER BY point_code", m.ID)
		if err != nil {
			return nil, err
		}
		for reads.Next() {
			var p string
			if err := reads.Scan(&p); err != nil {
				reads.Close()
				return nil, err
			}
			m.ReadBy = append(m.ReadBy, p)
		}
		reads.Close()
	}
	return out, nil
}

// MyMessages are the messages for the signed-in person's roles (or for
// everyone), newest first: what the console shows them.
func (s *Store) MyMessages(ctx context.Context, limit int) ([]Message, error) {
	a := actorOf(ctx)
	if a.User == nil {
		return nil, bill.Errorf(bill.EUnauthorized, "请先登录。")
	}
	roles := append([]string{""}, a.User.Roles...)
	args := make([]any, 0, len(roles)+1)
	for _, r := range roles {
		args = append(args, r)
	}
	rows, err := s.query(ctx, "SELECT "+messageCols+" FROM messages WHERE point_code = '' AND role IN ("+placeholders(len(roles))+
		") ORDER BY created_at DESC, id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// recordReads stores a station's read receipts of messages that exist.
func recordReads(ctx context.Context, t *dbtx, point string, reads []wire.ReadReceipt) error {
	for i, r := range reads {
		if i == 200 {
			break
		}
		if r.ID == "" || len(r.ID) > 40 {
			continue
		}
		if _, err := t.exec(ctx, `INSERT INTO message_reads (message_id, point_code, read_at) SELECT ?, ?, ?
			WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?) ON CONFLICT (message_id, point_code) DO NOTHING`,
			r.ID, point, r.At.UnixMilli(), r.ID); err != nil {
			return err
		}
	}
	return nil
}

// postAuto sends an automatic message unless one with the same key was sent.
func (s *Store) postAuto(ctx context.Context, key string, m Message) (bool, error) {
	sent := false
	err := s.tx(ctx, func(t *dbtx) error {
		var id string
		err := t.queryRow(ctx, "SELECT id FROM messages WHERE auto_key = ?", key).Scan(&id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		m.Author = "系统"
		if _, err := s.insertMessage(ctx, t, m, key); err != nil {
			return err
		}
		sent = true
		return nil
	})
	return sent, err
}

// Reminders are the automatic messages' settings.
type Reminders struct {
	SilentAfter time.Duration            // a station not heard from for this long
	CertExpiry  func() (time.Time, bool) // the TLS certificate's end, if the server knows it
	CertWarn    time.Duration            // warn this long before it
}

// SendReminders checks once and sends what is due, each at most once a
// day: stock below its alert (to the bill administrators, and to the point's
// desk for a point's stock), a station's rejected bills, a station silent
// too long, the certificate expiring (to the system administrators). It
// returns how many it sent.
func (s *Store) SendReminders(ctx context.Context, r Reminders) (int, error) {
	ctx = WithActor(ctx, Actor{Who: "system:reminders", From: "local", System: true})
	now := s.now()
	day := now.In(bill.Beijing).Format("2006-01-02")
	sent := 0
	send := func(key string, m Message) error {
		ok, err := s.postAuto(ctx, key+"@"+day, m)
		if ok {
			sent++
		}
		return err
	}
	lines, err := s.StockReport(ctx)
	if err != nil {
		return sent, err
	}
	for _, l := range lines {
		if l.Alert == "" {
			continue
		}
		where := "全院"
		if l.Point != "" {
			where = "开票点 " + l.Point
		}
		title := fmt.Sprintf("%s%s %s 库存预警", where, StockKindName(l.Kind), l.Code)
		body := l.Alert + "。请及时入库或分发。"
		if err := send("stock:"+l.Kind+":"+l.Code+":"+l.Point, Message{Role: RoleBillAdmin, Title: title, Body: body}); err != nil {
			return sent, err
		}
		if l.Point != "" {
			if err := send("stock-desk:"+l.Kind+":"+l.Code+":"+l.Point, Message{Point: l.Point, Title: StockKindName(l.Kind) + "余量不足",
				Body: l.Alert + "。请联系票据管理员。"}); err != nil {
				return sent, err
			}
		}
	}
	points, err := s.Points(ctx)
	if err != nil {
		return sent, err
	}
	reports, err := s.StationReports(ctx)
	if err != nil {
		return sent, err
	}
	for _, p := range points {
		if p.Kind != PointStation || !p.Active() || !p.DisabledAt.IsZero() {
			continue
		}
		rep, ok := reports[p.Code]
		if ok && rep.Rejected > 0 {
			if err := send("rejected:"+p.Code, Message{Role: RoleBillAdmin, Title: "开票点 " + p.Code + " 有被拒收的票据",
				Body: fmt.Sprintf("开票点 %s（%s）有 %d 张票据上传时被服务器拒收，请在“上传冲突”中核对。", p.Code, p.Name, rep.Rejected)}); err != nil {
				return sent, err
			}
		}
		last := p.EnrolledAt
		if ok {
			last = rep.At
		}
		if r.SilentAfter > 0 && now.Sub(last) > r.SilentAfter {
			if err := send("silent:"+p.Code, Message{Role: RoleBillAdmin, Title: "开票点 " + p.Code + " 长时间未同步",
				Body: fmt.Sprintf("开票点 %s（%s）最近一次同步在 %s，已超过 %.0f 小时。请检查收费电脑的网络和同步服务。", p.Code, p.Name,
					last.In(bill.Beijing).Format("2006-01-02 15:04"), r.SilentAfter.Hours())}); err != nil {
				return sent, err
			}
		}
	}
	if err := s.certificateReminders(ctx, 30*24*time.Hour, send); err != nil {
		return sent, err
	}
	if r.CertExpiry != nil {
		if end, ok := r.CertExpiry(); ok && end.Sub(now) < r.CertWarn {
			if err := send("cert", Message{Role: RoleSysAdmin, Title: "服务器证书即将到期",
				Body: fmt.Sprintf("服务器的 TLS 证书将于 %s 到期。到期后收费电脑和 HIS 无法连接服务器，请尽快更换证书。",
					end.In(bill.Beijing).Format("2006-01-02 15:04"))}); err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}
