package ui

import (
	"context"
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
)

// StatusBar shows at a glance whether the station is online, what waits to
// be uploaded, how much of the offline allowance is used (amber from 80 %,
// red at the limit), the numbers left per bill code, the paper number in
// the printer and unread messages.
type StatusBar struct {
	env      *Env
	Online   *canvas.Text
	Pending  *canvas.Text
	Limit    *canvas.Text
	Stock    *canvas.Text
	Paper    *canvas.Text
	Messages *canvas.Text
	Backup   *canvas.Text // a reminder when the last backup is old or missing
	// LimitLevel is "ok", "amber" or "red" (for tests and for the issue screen).
	LimitLevel string
	box        *fyne.Container
}

func statusText() *canvas.Text {
	t := canvas.NewText("", color.Black)
	t.TextSize = 13
	return t
}

// NewStatusBar builds the bar; Refresh fills it.
func NewStatusBar(env *Env) *StatusBar {
	return &StatusBar{env: env, Online: statusText(), Pending: statusText(), Limit: statusText(), Stock: statusText(),
		Paper: statusText(), Messages: statusText(), Backup: statusText(), LimitLevel: "ok"}
}

// Content lays the bar out.
func (b *StatusBar) Content() fyne.CanvasObject {
	sep := func() fyne.CanvasObject { return widget.NewSeparator() }
	b.box = container.NewHBox(b.Online, sep(), b.Pending, sep(), b.Limit, sep(), b.Stock, sep(), b.Paper, sep(), b.Messages, b.Backup)
	return container.NewVBox(widget.NewSeparator(), b.box)
}

type statusData struct {
	st     *localstore.Status
	sync   localstore.SyncState
	unread int
	backup localstore.BackupPlan
}

// Refresh reads the station's state in the background and shows it.
func (b *StatusBar) Refresh() {
	Go(b.env.Bridge, func(ctx context.Context) (statusData, error) {
		var d statusData
		var err error
		if d.st, err = b.env.Store.Status(ctx); err != nil {
			return d, err
		}
		if d.sync, err = b.env.Store.SyncState(ctx); err != nil {
			return d, err
		}
		// The daily backup, when due, runs here (in the background).
		if b.env.Store.BackupDue(ctx) {
			if path, err := b.env.Store.BackupNow(ctx); err != nil {
				b.env.Log.Warn("daily backup failed", "file", path, "err", err)
			}
		}
		d.backup, _ = b.env.Store.Plan(ctx)
		msgs, err := b.env.Store.Messages(ctx)
		for _, m := range msgs {
			if !m.Read {
				d.unread++
			}
		}
		return d, err
	}, func(d statusData, err error) {
		if err != nil {
			b.Online.Text, b.Online.Color = "状态读取失败："+bill.ErrorMessage(err), colorRed
			b.Online.Refresh()
			return
		}
		b.show(d)
	})
}

// Run refreshes the bar every interval until ctx ends.
func (b *StatusBar) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fyne.Do(b.Refresh)
		}
	}
}

func (b *StatusBar) show(d statusData) {
	st := d.st
	now := b.env.now()
	switch {
	case st.Station.ServerURL == "":
		b.Online.Text, b.Online.Color = "● 单机（未连接服务器）", colorAmber
	case d.sync.LastAttempt.IsZero() || now.Sub(d.sync.LastAttempt) > 3*time.Minute:
		b.Online.Text, b.Online.Color = "● 同步服务未运行：票据不会上传，请联系信息科（ebill sync install）", colorRed
	case d.sync.Online && now.Sub(d.sync.LastSuccess) < 5*time.Minute:
		b.Online.Text, b.Online.Color = "● 在线", colorOK
	default:
		last := "从未同步"
		if !d.sync.LastSuccess.IsZero() {
			last = "最近同步 " + d.sync.LastSuccess.In(bill.Beijing).Format("01-02 15:04")
		}
		b.Online.Text, b.Online.Color = "● 离线（"+last+"）", colorAmber
	}
	b.Pending.Text = fmt.Sprintf("待上传 %d 张 %s 元", st.Pending, st.PendingAmount)
	b.Pending.Color = color.Black
	if st.Rejected > 0 {
		b.Pending.Text += fmt.Sprintf("，%d 张被拒收", st.Rejected)
		b.Pending.Color = colorRed
	}
	if st.PaperRefused > 0 {
		b.Pending.Text += fmt.Sprintf("，%d 条纸质票据记录被拒，请联系票据管理员", st.PaperRefused)
		b.Pending.Color = colorRed
	}
	worst := 0.0
	var worstName string
	for _, u := range st.Usage {
		if u.Ratio > worst {
			worst, worstName = u.Ratio, u.Name
		}
	}
	b.LimitLevel = limitLevel(worst)
	b.Limit.Text = fmt.Sprintf("离线额度 %.0f%%", worst*100)
	if worstName != "" && worst > 0 {
		b.Limit.Text += "（" + worstName + "）"
	}
	b.Limit.Color = map[string]color.Color{"ok": color.Black, "amber": colorAmber, "red": colorRed}[b.LimitLevel]
	if b.LimitLevel == "red" {
		b.Limit.Text += " 已停止开票，请联网上传"
	}
	var stock []string
	alert := false
	for _, c := range st.Stock {
		stock = append(stock, fmt.Sprintf("%s 剩 %d", c.BillCode, c.Remaining))
		alert = alert || c.Alert
	}
	b.Stock.Text = "号码：" + strings.Join(stock, "，")
	if len(stock) == 0 {
		b.Stock.Text, alert = "号码：无库存", true
	}
	b.Stock.Color = color.Black
	if alert {
		b.Stock.Text += " ⚠"
		b.Stock.Color = colorAmber
	}
	var paper []string
	for _, p := range st.Paper {
		if p.Next > 0 {
			paper = append(paper, fmt.Sprintf("%s %s", p.Code, bill.FormatBillNo(p.Next)))
		}
	}
	b.Paper.Text = "纸质当前号：" + strings.Join(paper, "，")
	if len(paper) == 0 {
		b.Paper.Text = "纸质票据：无"
	}
	b.Messages.Text = fmt.Sprintf("消息 %d 条未读", d.unread)
	b.Messages.Color = color.Black
	if d.unread > 0 {
		b.Messages.Color = colorAmber
	}
	b.Backup.Text, b.Backup.Color = backupReminder(d.backup, now), colorAmber
	for _, t := range []*canvas.Text{b.Online, b.Pending, b.Limit, b.Stock, b.Paper, b.Messages, b.Backup} {
		t.Refresh()
	}
	if b.box != nil {
		b.box.Refresh()
	}
}

// limitLevel: amber from 80 % of an offline limit, red at the limit.
func limitLevel(ratio float64) string {
	switch {
	case ratio >= 1:
		return "red"
	case ratio >= 0.8:
		return "amber"
	}
	return "ok"
}

// backupReminder is the status bar's word about backups: nothing while
// they are recent, a short reminder when the last is old, failed or
// missing (个人设置 says the rest).
func backupReminder(p localstore.BackupPlan, now time.Time) string {
	switch {
	case p.LastError != "":
		return " ⚠ 备份失败"
	case p.LastAt.IsZero():
		return " ⚠ 未备份"
	case now.Sub(p.LastAt) > localstore.BackupRemindAfter:
		return fmt.Sprintf(" ⚠ %d天未备份", int(now.Sub(p.LastAt).Hours()/24))
	}
	return ""
}
