package ui

import (
	"encoding/json"
	"os"
	"runtime"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
)

// fyneChinese are the words Fyne's own widgets show (file dialogs, entry
// menus, the date picker), in Chinese.
var fyneChinese = map[string]any{
	"Advanced": "高级", "Cancel": "取消", "Confirm": "确认", "Copy": "复制", "Create Folder": "新建文件夹", "Cut": "剪切",
	"Enter filename": "输入文件名", "Error": "错误", "Favourites": "收藏", "File": "文件", "Folder": "文件夹",
	"New Folder": "新建文件夹", "No": "否", "OK": "确定", "Open": "打开", "Paste": "粘贴", "Quit": "退出", "Redo": "重做",
	"Save": "保存", "Select all": "全选", "Show Hidden Files": "显示隐藏文件", "Undo": "撤销", "Yes": "是",
	"file.name": map[string]string{"other": "文件名"}, "file.parent": map[string]string{"other": "上一级"},
	"monday": "星期一", "tuesday": "星期二", "wednesday": "星期三", "thursday": "星期四", "friday": "星期五",
	"saturday": "星期六", "sunday": "星期日", "monday.short": "一", "tuesday.short": "二", "wednesday.short": "三",
	"thursday.short": "四", "friday.short": "五", "saturday.short": "六", "sunday.short": "日",
}

// fyneLocales are the languages Fyne ships translations for: whichever the
// PC is set to, its words are replaced by the Chinese ones.
var fyneLocales = []string{"en", "cs", "de", "el", "es", "fr", "pl", "pt", "pt-BR", "ru", "sv", "ta", "uk", "zh-Hans", "zh-CN"}

// UseChinese makes Fyne's own widgets speak Chinese whatever the PC's
// language: a cashier's PC may be set to English, and on Linux the
// Makefile's LANG=C.UTF-8 made Fyne log "Error parsing user locale C" and
// show English file dialogs. Call it before the app is created.
func UseChinese() {
	if runtime.GOOS != "windows" {
		// Fyne reads the Unix locale from the environment; LANGUAGE is
		// read unless LC_ALL, LC_MESSAGES or LANG is exactly "C".
		for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
			if v := os.Getenv(k); v != "" {
				if v == "C" || v == "POSIX" || v == "C.UTF-8" || v == "C.utf8" {
					os.Setenv(k, "zh_CN.UTF-8")
				}
				break
			}
		}
		os.Setenv("LANGUAGE", "zh_CN")
	}
	data, _ := json.Marshal(fyneChinese)
	for _, l := range fyneLocales {
		if err := lang.AddTranslationsForLocale(data, fyne.Locale(l)); err != nil {
			fyne.LogError("Chinese translations", err)
		}
	}
}
