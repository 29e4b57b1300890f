package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// field is an entry for keyboard-first forms: Enter moves to the next
// field (or calls onEnter), and the screen's keys (F9, Esc, F5...) reach
// the screen whichever field has the focus.
type field struct {
	widget.Entry
	keys     func(*fyne.KeyEvent) bool // the screen's keys; true when handled
	onEnter  func()                    // instead of moving to the next field
	onFocus  func(bool)
	onUpDown func(up bool)
	mask     func(string) string // shown instead of the text when the field does not have the focus
	real     string
	masked   bool
}

func newField(placeholder string) *field {
	f := &field{}
	f.ExtendBaseWidget(f)
	f.SetPlaceHolder(placeholder)
	return f
}

// Value is the field's text (the real one when it is shown masked).
func (f *field) Value() string {
	if f.masked {
		return f.real
	}
	return f.Text
}

// SetValue sets the text, masked when the field has no focus and masks.
func (f *field) SetValue(s string) {
	f.real, f.masked = s, false
	f.SetText(s)
	f.applyMask()
}

func (f *field) applyMask() {
	if f.mask != nil && f.Text != "" {
		f.real, f.masked = f.Text, true
		f.SetText(f.mask(f.Text))
	}
}

func (f *field) TypedKey(ev *fyne.KeyEvent) {
	if f.keys != nil && f.keys(ev) {
		return
	}
	if isWindowKey(ev) && routeKey(f, ev) {
		return
	}
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if f.onEnter != nil {
			f.onEnter()
			return
		}
		nextFocus(f)
		return
	case fyne.KeyUp, fyne.KeyDown:
		if f.onUpDown != nil {
			f.onUpDown(ev.Name == fyne.KeyUp)
			return
		}
	}
	f.Entry.TypedKey(ev)
}

func (f *field) FocusGained() {
	if f.masked {
		f.masked = false
		f.SetText(f.real)
	}
	f.Entry.FocusGained()
	if f.onFocus != nil {
		f.onFocus(true)
	}
}

func (f *field) FocusLost() {
	f.Entry.FocusLost()
	f.applyMask()
	if f.onFocus != nil {
		f.onFocus(false)
	}
}
