package ui

import (
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// The desk is keyboard first: its keys (F1–F4 and F8 switch screens, F9
// issues, Esc clears...) must work whichever widget has the focus. Fyne
// gives a key to the focused widget alone (the canvas hears it only when
// nothing has the focus), so every focusable widget of the desk is one of
// the types below, which hand a key they do not use to the window's
// handler first. Dialogs keep the keyboard while they are open: focus goes
// into them, Enter takes the default button, Esc cancels, and no key
// reaches the screen beneath.

// windowKeys are each window's key handlers (the desk's), by canvas.
var windowKeys sync.Map // fyne.Canvas → func(*fyne.KeyEvent) bool

// setWindowKeys makes h the handler of the keys of win's canvas, whatever
// has the focus; h reports whether it used the key.
func setWindowKeys(win fyne.Window, h func(*fyne.KeyEvent) bool) {
	c := win.Canvas()
	windowKeys.Store(c, h)
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if m := topModal(c); m != nil {
			m.key(ev)
			return
		}
		h(ev)
	})
}

// routeKey gives ev to the window handler of the canvas o is on: an open
// dialog first (which swallows every key), then the desk.
func routeKey(o fyne.CanvasObject, ev *fyne.KeyEvent) bool {
	c := canvasOf(o)
	if c == nil {
		return false
	}
	if m := topModal(c); m != nil {
		if m.owns(o) {
			return m.key(ev)
		}
		return true // a widget under the dialog: nothing reaches it
	}
	if h, ok := windowKeys.Load(c); ok {
		return h.(func(*fyne.KeyEvent) bool)(ev)
	}
	return false
}

// canvasOf is the canvas o is shown on (nil when none).
func canvasOf(o fyne.CanvasObject) fyne.Canvas {
	app := fyne.CurrentApp()
	if app == nil {
		return nil
	}
	return app.Driver().CanvasForObject(o)
}

// isWindowKey reports the keys that belong to the window rather than to
// the focused widget: the function keys and Esc.
func isWindowKey(ev *fyne.KeyEvent) bool {
	switch ev.Name {
	case fyne.KeyEscape, fyne.KeyF1, fyne.KeyF2, fyne.KeyF3, fyne.KeyF4, fyne.KeyF5, fyne.KeyF6, fyne.KeyF7,
		fyne.KeyF8, fyne.KeyF9, fyne.KeyF10, fyne.KeyF11, fyne.KeyF12:
		return true
	}
	return false
}

// isEnter reports the Return and keypad Enter keys.
func isEnter(ev *fyne.KeyEvent) bool { return ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter }

// nextFocus moves the focus to the next field of o's canvas (Enter's job
// in forms).
func nextFocus(o fyne.CanvasObject) {
	if app := fyne.CurrentApp(); app != nil {
		if c := app.Driver().CanvasForObject(o); c != nil {
			c.FocusNext()
		}
	}
}

// selectField is a drop-down of a keyboard form: Enter moves on to the
// next field (Space or ↓ opens the list, ← → change the choice), and the
// window's keys work from it.
type selectField struct {
	widget.Select
	onEnter func()
}

func newSelect(options []string, changed func(string)) *selectField {
	s := &selectField{}
	s.Options, s.OnChanged = options, changed
	s.ExtendBaseWidget(s)
	return s
}

func (s *selectField) TypedKey(ev *fyne.KeyEvent) {
	if isWindowKey(ev) && routeKey(s, ev) {
		return
	}
	if isEnter(ev) {
		if s.onEnter != nil {
			s.onEnter()
			return
		}
		nextFocus(s)
		return
	}
	s.Select.TypedKey(ev)
}

// keyButton is a button the window's keys work from; Enter presses it as
// Space does.
type keyButton struct {
	widget.Button
}

func newButton(label string, tapped func()) *keyButton {
	b := &keyButton{}
	b.Text, b.OnTapped = label, tapped
	b.ExtendBaseWidget(b)
	return b
}

func (b *keyButton) TypedKey(ev *fyne.KeyEvent) {
	if isWindowKey(ev) && routeKey(b, ev) {
		return
	}
	if isEnter(ev) && !b.Disabled() {
		b.Tapped(nil)
		return
	}
	b.Button.TypedKey(ev)
}

// keyList is a list (the desk's navigation) the window's keys work from.
type keyList struct {
	widget.List
}

func newList(length func() int, create func() fyne.CanvasObject, update func(widget.ListItemID, fyne.CanvasObject)) *keyList {
	l := &keyList{}
	l.Length, l.CreateItem, l.UpdateItem = length, create, update
	l.ExtendBaseWidget(l)
	return l
}

func (l *keyList) TypedKey(ev *fyne.KeyEvent) {
	if isWindowKey(ev) && routeKey(l, ev) {
		return
	}
	l.List.TypedKey(ev)
}

// keyTable is a table the window's keys work from.
type keyTable struct {
	widget.Table
}

func (t *keyTable) TypedKey(ev *fyne.KeyEvent) {
	if isWindowKey(ev) && routeKey(t, ev) {
		return
	}
	t.Table.TypedKey(ev)
}

// modal is a dialog that keeps the keyboard.
type modal struct {
	d       *dialog.CustomDialog
	canvas  fyne.Canvas
	content fyne.CanvasObject
	buttons []*keyButton
	ok      func() // the default button's action; nil when the dialog only informs
	cancel  func()
	closed  bool
	extra   map[fyne.KeyName]func() // the dialog's own keys (F5 prints in the bill's preview)
}

// modals are the open dialogs of each canvas, the top one last.
var (
	modalsMu sync.Mutex
	modals   = map[fyne.Canvas][]*modal{}
)

func topModal(c fyne.Canvas) *modal {
	modalsMu.Lock()
	defer modalsMu.Unlock()
	list := modals[c]
	if len(list) == 0 {
		return nil
	}
	return list[len(list)-1]
}

// dialogOpen reports whether a dialog is open in win (for tests).
func dialogOpen(win fyne.Window) bool { return topModal(win.Canvas()) != nil }

// showModal opens a dialog of content with an OK button (okText, the
// default: Enter) and, when cancelText is not empty, a cancel button (Esc;
// Esc closes an information dialog too). Focus goes to first when given,
// else to the default button. ok and cancel run after the dialog closed.
func showModal(win fyne.Window, title string, content fyne.CanvasObject, okText string, ok func(), cancelText string, cancel func(), first fyne.Focusable) *modal {
	m := &modal{canvas: win.Canvas(), content: content, ok: ok, cancel: cancel}
	def := newButton(okText, func() { m.close(m.ok) })
	def.Importance = widget.HighImportance
	var buttons []fyne.CanvasObject
	if cancelText != "" {
		no := newButton(cancelText, func() { m.close(m.cancel) })
		m.buttons = append(m.buttons, no)
		buttons = append(buttons, no)
	}
	m.buttons = append(m.buttons, def)
	buttons = append(buttons, def)
	m.d = dialog.NewCustomWithoutButtons(title, content, win)
	m.d.SetButtons(buttons)
	modalsMu.Lock()
	modals[m.canvas] = append(modals[m.canvas], m)
	modalsMu.Unlock()
	m.d.Show()
	if first != nil {
		m.canvas.Focus(first)
	} else {
		m.canvas.Focus(def)
	}
	return m
}

// addButton puts another choice beside the default button, to its left.
func (m *modal) addButton(b *keyButton) {
	last := len(m.buttons) - 1
	m.buttons = append(m.buttons[:last], b, m.buttons[last])
	objs := make([]fyne.CanvasObject, len(m.buttons))
	for i, x := range m.buttons {
		objs[i] = x
	}
	m.d.SetButtons(objs)
}

// owns reports whether o is inside the dialog.
func (m *modal) owns(o fyne.CanvasObject) bool {
	for _, b := range m.buttons {
		if b == o {
			return true
		}
	}
	return containsObject(m.content, o)
}

func containsObject(root, o fyne.CanvasObject) bool {
	if root == o {
		return true
	}
	for _, c := range children(root) {
		if containsObject(c, o) {
			return true
		}
	}
	return false
}

// children are the objects a layout object holds: a container's objects,
// a scroll's content, a split's two sides, a form's fields. Widgets are
// leaves.
func children(o fyne.CanvasObject) []fyne.CanvasObject {
	switch v := o.(type) {
	case *fyne.Container:
		return v.Objects
	case *container.Scroll:
		return []fyne.CanvasObject{v.Content}
	case *container.Split:
		return []fyne.CanvasObject{v.Leading, v.Trailing}
	case *widget.Form:
		var out []fyne.CanvasObject
		for _, it := range v.Items {
			out = append(out, it.Widget)
		}
		return out
	}
	return nil
}

// key is the dialog's handling of a key its widgets did not use: Enter
// takes the default button, Esc cancels; every other key stops here.
func (m *modal) key(ev *fyne.KeyEvent) bool {
	if fn, ok := m.extra[ev.Name]; ok {
		fn()
		return true
	}
	switch {
	case isEnter(ev):
		m.close(m.ok)
	case ev.Name == fyne.KeyEscape:
		m.close(m.cancel)
	}
	return true
}

// close hides the dialog, gives the focus back to the screen, then runs then.
func (m *modal) close(then func()) {
	if m.closed {
		return
	}
	m.closed = true
	modalsMu.Lock()
	list := modals[m.canvas]
	for i, x := range list {
		if x == m {
			modals[m.canvas] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	modalsMu.Unlock()
	m.d.Hide()
	if then != nil {
		then()
	}
}
