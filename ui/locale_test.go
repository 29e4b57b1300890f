package ui

import (
	"os"
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
)

// TestFyneSpeaksChinese: the file dialogs' words are Chinese whatever the
// PC's language — here the Makefile's LANG=C.UTF-8, which made Fyne log
// "Error parsing user locale C" and show English.
func TestFyneSpeaksChinese(t *testing.T) {
	t.Setenv("LANG", "C.UTF-8")
	t.Setenv("LANGUAGE", "")
	UseChinese()
	test.NewTempApp(t)
	for en, zh := range map[string]string{"Cancel": "取消", "Open": "打开", "Save": "保存", "New Folder": "新建文件夹"} {
		if got := lang.L(en); got != zh {
			t.Errorf("%q shows as %q, want %q", en, got, zh)
		}
	}
	if os.Getenv("LANGUAGE") != "zh_CN" {
		t.Errorf("LANGUAGE=%q", os.Getenv("LANGUAGE"))
	}
}

// TestMain makes Fyne's words Chinese for every test, as the desk does at
// start (and keeps the test log free of "Error parsing user locale C").
func TestMain(m *testing.M) {
	UseChinese()
	os.Exit(m.Run())
}
