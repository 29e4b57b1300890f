package ui

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing"
	ebsync "github.com/ebill/ebill/sync"
)

// Env is what the screens work with.
type Env struct {
	Store   *localstore.Store
	Client  *ebsync.Client // nil for a station without a server (demo, training)
	Font    *printing.Font
	Bridge  *Bridge
	Log     *slog.Logger
	DataDir string
	Now     func() time.Time
	// Printed receives a job id after each print (tests watch it).
	Printed func(job string)
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Session is the signed-in user: the payee of the bills issued.
type Session struct {
	Login   string
	Name    string
	Roles   []string
	Offline bool   // signed in against the cached credentials
	Token   string // the server session, when signed in online
	// MustChange: the password is one an administrator set, or expired; the
	// desk opens only once it is changed (at the server).
	MustChange bool
}

// Can reports whether the user holds one of roles.
func (s *Session) Can(roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(s.Roles, r) {
			return true
		}
	}
	return false
}

// Screen is one entry of the main window's navigation.
type Screen struct {
	Key   string
	Title string
	Roles []string // any of them may open it; empty for everyone
	Build func() fyne.CanvasObject
}

// Desk is the main window's content: the navigation, the current screen
// and the status bar.
type Desk struct {
	env     *Env
	win     fyne.Window
	session *Session
	screens []Screen
	nav     *keyList
	body    *fyne.Container
	Status  *StatusBar
	current string

	// The screens, kept for tests and for keys that reach across.
	Issue   *IssueScreen
	Reverse *ReverseScreen
	Paper   *PaperScreen
	Query   *QueryScreen
	Stock   *StockScreen
	Closing *ClosingScreen
	Prefs   *SettingsScreen
}

// NewDesk builds the main window for the signed-in user.
func NewDesk(env *Env, win fyne.Window, s *Session) *Desk {
	d := &Desk{env: env, win: win, session: s}
	d.Status = NewStatusBar(env)
	d.Issue = NewIssueScreen(env, win, s)
	d.Reverse = NewReverseScreen(env, win, s)
	d.Paper = NewPaperScreen(env, win, s)
	d.Query = NewQueryScreen(env, win, s)
	d.Stock = NewStockScreen(env, win)
	d.Closing = NewClosingScreen(env, win, s)
	d.Prefs = NewSettingsScreen(env, win, s)
	d.Issue.afterIssue = func() { d.Status.Refresh() }
	all := []Screen{
		{"issue", "开具电子票据", []string{"cashier", "exam_nurse"}, d.Issue.Content},
		{"reverse", "红字冲销", []string{"cashier", "bill_admin"}, d.Reverse.Content},
		{"paper", "纸质票据", []string{"cashier", "bill_admin"}, d.Paper.Content},
		{"query", "票据查询", nil, d.Query.Content},
		{"stock", "票源库存", nil, d.Stock.Content},
		{"closing", "日结", []string{"cashier", "exam_nurse", "finance"}, d.Closing.Content},
		{"settings", "个人设置与消息", nil, d.Prefs.Content},
	}
	for _, sc := range all {
		if len(sc.Roles) == 0 || s.Can(sc.Roles...) {
			d.screens = append(d.screens, sc)
		}
	}
	d.body = container.NewStack()
	d.nav = newList(func() int { return len(d.screens) },
		func() fyne.CanvasObject { return widget.NewLabel("开具电子票据__") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(d.screens[i].Title)
		})
	d.nav.OnSelected = func(i widget.ListItemID) { d.show(d.screens[i].Key) }
	return d
}

// Content is the main window's layout.
func (d *Desk) Content() fyne.CanvasObject {
	who := widget.NewLabel("收款人：" + d.session.Name + offlineMark(d.session))
	left := container.NewBorder(nil, who, nil, nil, d.nav)
	split := container.NewHSplit(left, d.body)
	split.Offset = 0.13
	if len(d.screens) > 0 {
		d.nav.Select(0)
	}
	d.installKeys()
	return container.NewBorder(nil, d.Status.Content(), nil, nil, split)
}

func offlineMark(s *Session) string {
	if s.Offline {
		return "（离线登录）"
	}
	return ""
}

// Install puts the main window's content in the window and the cursor in
// the first screen's first field.
func (d *Desk) Install() {
	d.win.SetContent(d.Content())
	if d.current == "issue" {
		d.Issue.FocusFirst()
	}
}

// Show switches to the screen called key (e.g. "query").
func (d *Desk) Show(key string) {
	for i, sc := range d.screens {
		if sc.Key == key {
			d.nav.Select(i)
			return
		}
	}
}

func (d *Desk) show(key string) {
	for _, sc := range d.screens {
		if sc.Key == key {
			d.current = key
			d.body.Objects = []fyne.CanvasObject{sc.Build()}
			d.body.Refresh()
			if key == "issue" {
				d.Issue.FocusFirst()
			}
			return
		}
	}
}

// Current is the key of the screen shown.
func (d *Desk) Current() string { return d.current }

// screenKeys are the keys that switch screens.
var screenKeys = map[fyne.KeyName]string{fyne.KeyF1: "issue", fyne.KeyF2: "reverse", fyne.KeyF3: "paper", fyne.KeyF4: "query", fyne.KeyF8: "stock"}

// installKeys: F1–F4 and F8 switch screens and the issue screen's keys
// (F5–F7, F9, Esc) act, whichever widget has the focus (see keys.go).
func (d *Desk) installKeys() {
	setWindowKeys(d.win, d.key)
}

// key is the main window's handling of a key no widget used.
func (d *Desk) key(ev *fyne.KeyEvent) bool {
	if d.win.Canvas().Overlays().Top() != nil {
		return false // a file chooser is open: its keys are its own
	}
	if d.current == "issue" && d.Issue.keys(ev) {
		return true
	}
	if k, ok := screenKeys[ev.Name]; ok {
		d.Show(k)
		d.focusScreen()
		return true
	}
	return false
}

// focusScreen puts the cursor in the current screen's first field, so
// that a screen reached by its key is ready for typing.
func (d *Desk) focusScreen() {
	if d.current == "issue" {
		d.Issue.FocusFirst()
		return
	}
	if len(d.body.Objects) > 0 {
		if f := firstFocusable(d.body.Objects[0]); f != nil {
			d.win.Canvas().Focus(f)
		}
	}
}

// firstFocusable is the visible, enabled widget that takes the keyboard
// and comes first in reading order — the top-most, then left-most — so
// that a screen's filters come before its table whatever the containers.
// Positions are summed down the layout from o (the driver's absolute
// positions are not ready for a screen just put in the window).
func firstFocusable(o fyne.CanvasObject) fyne.Focusable {
	var best fyne.Focusable
	var bp fyne.Position
	var walk func(o fyne.CanvasObject, at fyne.Position)
	walk = func(o fyne.CanvasObject, at fyne.Position) {
		if o == nil || !o.Visible() {
			return
		}
		if f, ok := o.(fyne.Focusable); ok {
			if dis, ok := o.(fyne.Disableable); (!ok || !dis.Disabled()) &&
				(best == nil || at.Y < bp.Y-1 || (at.Y < bp.Y+1 && at.X < bp.X)) {
				best, bp = f, at
			}
			return
		}
		for _, c := range children(o) {
			walk(c, at.Add(c.Position()))
		}
	}
	walk(o, fyne.Position{})
	return best
}

// showError shows an error the way users need it: the Chinese message that
// says what to do; the detail of our own faults goes to the log.
func showError(env *Env, win fyne.Window, err error) {
	if err == nil {
		return
	}
	msg := bill.ErrorMessage(err)
	if bill.ErrorCode(err) == bill.EInternal {
		env.Log.Error("desk", "err", err)
		msg += "（详情已记入日志，请联系信息科）"
	}
	inform("无法完成", msg, win)
	lastError = msg
}

// confirm asks a yes-or-no question with Chinese buttons (Fyne's own follow
// the system's language, and a cashier's PC may not be set to Chinese):
// Enter confirms, Esc cancels.
func confirm(title, msg string, then func(bool), win fyne.Window) {
	showModal(win, title, widget.NewLabel(wrapText(msg, 36)), "确认", func() { then(true) },
		"取消", func() { then(false) }, nil)
}

// inform shows a message with a Chinese button; Enter or Esc closes it.
func inform(title, msg string, win fyne.Window) {
	showModal(win, title, widget.NewLabel(wrapText(msg, 36)), "知道了", nil, "", nil, nil)
}

// wrapText breaks each line of s after width characters (a Chinese
// character counts 2, others 1), so that a dialog stays a readable width.
func wrapText(s string, width int) string {
	var b strings.Builder
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		w := 0
		for _, r := range line {
			cw := 1
			if r > 0x2e80 {
				cw = 2
			}
			if w+cw > width*2 {
				b.WriteByte('\n')
				w = 0
			}
			b.WriteRune(r)
			w += cw
		}
	}
	return b.String()
}

// lastError is the message of the last error shown (for tests).
var lastError string

// LastError returns the message of the last error dialog shown.
func LastError() string { return lastError }

func bg() context.Context { return context.Background() }
