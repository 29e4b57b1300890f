package ui

import (
	"context"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	ebsync "github.com/ebill/ebill/sync"
)

// DefaultWindowSize fits a 1366×768 screen, the commonest at cashier
// windows, with the taskbar and the title bar: the status bar is never
// below the screen's edge. Larger screens maximise it.
var DefaultWindowSize = fyne.NewSize(1340, 680)

// Desktop is the application's window and its flow: first-run enrollment,
// sign-in, then the main window.
type Desktop struct {
	Env    *Env
	Win    fyne.Window
	Login  *LoginScreen
	Enroll *EnrollScreen
	Desk   *Desk
	ctx    context.Context
}

// Open builds the window for env (its Store open) and shows the first
// screen: enrollment when the station is not set up, else sign-in.
func Open(ctx context.Context, a fyne.App, env *Env) *Desktop {
	d := &Desktop{Env: env, ctx: ctx}
	d.Win = a.NewWindow("医疗电子票据")
	d.Win.Resize(DefaultWindowSize)
	if scale, err := env.Store.FontScale(ctx); err == nil {
		a.Settings().SetTheme(&Theme{Scale: float32(scale)})
	}
	if _, err := env.Store.Station(ctx); errors.Is(err, localstore.ErrNotInitialized) {
		d.showEnroll()
	} else {
		d.showLogin()
	}
	return d
}

func (d *Desktop) showEnroll() {
	d.Enroll = NewEnrollScreen(d.Env, d.Win, func() {
		if d.Env.Client == nil {
			if c, err := ebsync.ClientFor(d.ctx, d.Env.Store); err == nil {
				d.Env.Client = c
			}
		}
		d.showLogin()
	})
	d.Win.SetContent(d.Enroll.Content())
}

func (d *Desktop) showLogin() {
	d.Login = NewLoginScreen(d.Env, d.signedIn)
	d.Win.SetContent(d.Login.Content())
	d.Win.Canvas().Focus(d.Login.Login)
}

func (d *Desktop) signedIn(s *Session) {
	d.Desk = NewDesk(d.Env, d.Win, s)
	d.Desk.Install()
	d.Desk.Status.Refresh()
	go d.Desk.Status.Run(d.ctx, 5*time.Second)
}

// EnrollScreen is the first run: register this PC with the server by its
// address and a one-time enrollment code from the bill administrator.
type EnrollScreen struct {
	env                  *Env
	win                  fyne.Window
	Server, Code, Finger *widget.Entry
	Message              *widget.Label
	done                 func()
}

// NewEnrollScreen builds the screen.
func NewEnrollScreen(env *Env, win fyne.Window, done func()) *EnrollScreen {
	sc := &EnrollScreen{env: env, win: win, Server: widget.NewEntry(), Code: widget.NewEntry(), Finger: widget.NewEntry(),
		Message: widget.NewLabel(""), done: done}
	sc.Server.SetPlaceHolder("https://服务器地址:8443")
	sc.Code.SetPlaceHolder("票据管理员给出的注册码")
	sc.Finger.SetPlaceHolder("服务器证书指纹（使用自签名证书时必填）")
	sc.Message.Wrapping = fyne.TextWrapWord
	return sc
}

// Content is the screen.
func (sc *EnrollScreen) Content() fyne.CanvasObject {
	form := widget.NewForm(widget.NewFormItem("服务器地址", sc.Server), widget.NewFormItem("注册码", sc.Code),
		widget.NewFormItem("证书指纹", sc.Finger))
	intro := widget.NewLabel("本机还不是开票点。请输入服务器地址和票据管理员给出的注册码，把本机注册为开票点。\n数据目录：" + sc.env.DataDir +
		"（已有开票点数据时，请用 --data 参数或 EBILL_DATA 环境变量指向该目录后重新打开本程序）。")
	intro.Wrapping = fyne.TextWrapWord
	btn := newButton("注册本机", sc.Submit)
	btn.Importance = widget.HighImportance
	open := newButton("打开已有数据目录…", func() {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				sc.OpenDir(u.Path())
			}
		}, sc.win)
	})
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(640, 400), container.NewVBox(
		widget.NewLabelWithStyle("开票点注册", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}), intro, form,
		container.NewGridWithColumns(2, btn, open), sc.Message)))
}

// OpenDir switches to the station data in dir (a PC whose data directory
// is not the default one), if it holds an initialised station.
func (sc *EnrollScreen) OpenDir(dir string) {
	ctx := bg()
	st, err := localstore.Open(ctx, dir, localstore.WithLogger(sc.env.Log))
	if err != nil {
		sc.Message.SetText(bill.ErrorMessage(err))
		return
	}
	if _, err := st.Station(ctx); err != nil {
		st.Close()
		sc.Message.SetText("目录 " + dir + " 中没有开票点数据；请选择正确的目录，或注册本机。")
		return
	}
	old := sc.env.Store
	sc.env.Store, sc.env.DataDir, sc.env.Client = st, dir, nil
	if c, err := ebsync.ClientFor(ctx, st); err == nil {
		sc.env.Client = c
	}
	if old != nil {
		old.Close()
	}
	sc.done()
}

// Submit enrolls (in the background).
func (sc *EnrollScreen) Submit() {
	server, code, finger := strings.TrimSpace(sc.Server.Text), strings.TrimSpace(sc.Code.Text), strings.TrimSpace(sc.Finger.Text)
	if server == "" || code == "" {
		sc.Message.SetText("请填写服务器地址和注册码。")
		return
	}
	sc.Message.SetText("正在注册…")
	Go(sc.env.Bridge, func(ctx context.Context) (*localstore.Station, error) {
		return ebsync.Enroll(ctx, sc.env.Store, server, finger, code)
	}, func(st *localstore.Station, err error) {
		if err != nil {
			sc.Message.SetText(bill.ErrorMessage(err))
			return
		}
		inform("注册成功", "本机已注册为开票点 "+st.PlaceCode+" "+st.PlaceName+"。\n请确认同步服务已安装并运行（ebill sync install）。", sc.win)
		sc.done()
	})
}
