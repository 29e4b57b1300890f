package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing"
)

// SettingsScreen is 个人设置 and 消息: password, text size, default
// printer, and the messages from the centre.
type SettingsScreen struct {
	env     *Env
	win     fyne.Window
	session *Session

	OldPassword, NewPassword, Repeat *widget.Entry
	FontSize                         *selectField
	Printer                          *selectField
	Messages                         *widget.Label
	Info                             *widget.Label
	BackupDir                        *widget.Entry // 数据备份: the folder of the daily backup
	BackupInfo                       *widget.Label
	content                          fyne.CanvasObject
}

var fontScales = map[string]float64{"标准": 1, "较大": 1.2, "很大": 1.4}

// NewSettingsScreen builds the screen.
func NewSettingsScreen(env *Env, win fyne.Window, s *Session) *SettingsScreen {
	sc := &SettingsScreen{env: env, win: win, session: s}
	sc.OldPassword, sc.NewPassword, sc.Repeat = widget.NewPasswordEntry(), widget.NewPasswordEntry(), widget.NewPasswordEntry()
	sc.FontSize = newSelect([]string{"标准", "较大", "很大"}, sc.setFontSize)
	sc.Printer = newSelect(nil, sc.setPrinter)
	sc.Messages, sc.Info = widget.NewLabel(""), widget.NewLabel("")
	sc.BackupDir, sc.BackupInfo = widget.NewEntry(), widget.NewLabel("")
	sc.BackupDir.SetPlaceHolder(`例如 E:\ebill-backup（U 盘或另一块磁盘）`)
	sc.BackupInfo.Wrapping = fyne.TextWrapWord
	sc.Messages.Wrapping = fyne.TextWrapWord
	password := widget.NewForm(widget.NewFormItem("原密码", sc.OldPassword), widget.NewFormItem("新密码", sc.NewPassword),
		widget.NewFormItem("再输一次", sc.Repeat))
	sc.content = container.NewVScroll(container.NewVBox(
		widget.NewLabelWithStyle("修改密码", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), password,
		container.NewHBox(newButton("修改密码", sc.ChangePassword)),
		widget.NewSeparator(), labeled("字号", sc.FontSize), labeled("默认打印机", sc.Printer), sc.Info,
		widget.NewSeparator(), widget.NewLabelWithStyle("数据备份", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		labeled("备份文件夹", sc.BackupDir), container.NewHBox(newButton("保存并立即备份", sc.BackupNow)), sc.BackupInfo,
		widget.NewSeparator(), widget.NewLabelWithStyle("消息", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), sc.Messages))
	return sc
}

// Content is the screen, refreshed; opening it marks the messages read.
func (sc *SettingsScreen) Content() fyne.CanvasObject {
	ctx := bg()
	if scale, err := sc.env.Store.FontScale(ctx); err == nil {
		for name, v := range fontScales {
			if v == scale {
				sc.FontSize.Selected = name
			}
		}
		sc.FontSize.Refresh()
	}
	list, _ := printing.ListPrinters(ctx, filepath.Join(sc.env.DataDir, "prints"))
	def, _ := sc.env.Store.DefaultPrinter(ctx)
	var names []string
	for _, p := range list {
		names = append(names, p.Name)
	}
	if def != "" && !contains(names, def) {
		names = append(names, def)
	}
	sc.Printer.Options = names
	sc.Printer.Selected = def
	sc.Printer.Refresh()
	if p, err := sc.env.Store.Plan(ctx); err == nil {
		sc.BackupDir.SetText(p.Dir)
		sc.BackupInfo.SetText(backupText(p, sc.env.now()))
	}
	msgs, err := sc.env.Store.Messages(ctx)
	if err != nil {
		sc.Messages.SetText(bill.ErrorMessage(err))
	} else {
		var b strings.Builder
		for _, m := range msgs {
			mark := ""
			if !m.Read {
				mark = "【新】"
				sc.env.Store.MarkMessageRead(ctx, m.ID)
			}
			fmt.Fprintf(&b, "%s%s  %s\n%s\n\n", mark, m.CreatedAt.In(bill.Beijing).Format("2006-01-02 15:04"), m.Title, m.Body)
		}
		if len(msgs) == 0 {
			b.WriteString("没有消息。")
		}
		sc.Messages.SetText(b.String())
	}
	return sc.content
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (sc *SettingsScreen) setFontSize(name string) {
	scale := fontScales[name]
	if err := sc.env.Store.SetFontScale(bg(), scale); err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	fyne.CurrentApp().Settings().SetTheme(&Theme{Scale: float32(scale)})
}

func (sc *SettingsScreen) setPrinter(name string) {
	if name == "" {
		return
	}
	if err := sc.env.Store.SetDefaultPrinter(bg(), name); err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	sc.Info.SetText("默认打印机：" + name + "。套打位置不准时，请在“纸质票据”中校准。")
}

// ChangePassword changes the user's password at the server (it then
// reaches every station with the next sync).
func (sc *SettingsScreen) ChangePassword() {
	old, next := sc.OldPassword.Text, sc.NewPassword.Text
	switch {
	case next != sc.Repeat.Text:
		showError(sc.env, sc.win, bill.Errorf(bill.EInvalid, "两次输入的新密码不一致。"))
		return
	case sc.env.Client == nil:
		showError(sc.env, sc.win, bill.Errorf(bill.EUnavailable, "本机未连接服务器，不能修改密码。"))
		return
	case sc.session.Token == "":
		showError(sc.env, sc.win, bill.Errorf(bill.EUnavailable, "您是离线登录的，请在联网后重新登录再修改密码。"))
		return
	}
	Go(sc.env.Bridge, func(ctx context.Context) (string, error) {
		return sc.env.Client.ChangePassword(ctx, sc.session.Token, old, next)
	}, func(token string, err error) {
		if err != nil {
			showError(sc.env, sc.win, err)
			return
		}
		sc.session.Token = token // the old one ended with the change
		sc.OldPassword.SetText("")
		sc.NewPassword.SetText("")
		sc.Repeat.SetText("")
		sc.Info.SetText("密码已修改；其他开票点在下次同步后使用新密码离线登录。")
	})
}

// BackupNow saves the backup folder and backs up at once (in the
// background); the desk then backs up there every day by itself.
func (sc *SettingsScreen) BackupNow() {
	dir := sc.BackupDir.Text
	sc.BackupInfo.SetText("正在备份……")
	Go(sc.env.Bridge, func(ctx context.Context) (localstore.BackupPlan, error) {
		if err := sc.env.Store.SetBackupDir(ctx, dir); err != nil {
			return localstore.BackupPlan{}, err
		}
		_, err := sc.env.Store.BackupNow(ctx)
		p, _ := sc.env.Store.Plan(ctx)
		return p, err
	}, func(p localstore.BackupPlan, err error) {
		if err != nil {
			sc.BackupInfo.SetText("备份失败：" + bill.ErrorMessage(err))
			return
		}
		sc.BackupInfo.SetText(backupText(p, sc.env.now()))
	})
}

// backupText says where and when the last backup went.
func backupText(p localstore.BackupPlan, now time.Time) string {
	switch {
	case p.LastError != "":
		return "上次备份失败：" + p.LastError
	case p.LastAt.IsZero() && p.Dir == "":
		return "尚未设置备份：填写备份文件夹后，本机每天自动备份一次（保留最近 10 份）。"
	case p.LastAt.IsZero():
		return "尚未备份。"
	}
	return fmt.Sprintf("上次备份：%s（%s），每天自动备份一次，保留最近 %d 份。", p.LastAt.In(bill.Beijing).Format("2006-01-02 15:04"),
		p.LastFile, localstore.BackupKeep)
}
