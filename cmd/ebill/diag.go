package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/diag"
)

// cmdDiag writes the diagnostics bundle for support (issue 20): versions,
// the station's settings and status without secrets, the verify result,
// database statistics and the recent logs (personal numbers masked). What
// cannot be read (a damaged database) is said in the bundle, not fatal.
func cmdDiag(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("diag", "[--out 文件.zip]")
	out := fs.String("out", "", "写入的 zip 文件；默认为当前目录下的 ebill-diag-日期时间.zip")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		*out = "ebill-diag-" + time.Now().In(bill.Beijing).Format("20060102-150405") + ".zip"
	}
	b, err := diag.Create(*out)
	if errors.Is(err, os.ErrExist) {
		return bill.Errorf(bill.EInvalid, "%s 已存在，请换一个文件名。", *out)
	}
	if err != nil {
		return bill.Errorf(bill.EInvalid, "无法写入 %s：%v", *out, err)
	}
	b.JSON("version.json", map[string]string{"program": "ebill", "version": Version, "dataDir": a.dataDir})
	problems := map[string]string{}
	if s, err := a.open(ctx); err != nil {
		problems["open"] = bill.ErrorMessage(err)
	} else {
		if st, err := s.Status(ctx); err == nil {
			b.JSON("status.json", st) // the station row holds the public key, never the private one
		} else {
			problems["status"] = bill.ErrorMessage(err)
		}
		if ss, err := s.SyncState(ctx); err == nil {
			b.JSON("sync-state.json", ss)
		}
		if segs, err := s.Segments(ctx); err == nil {
			b.JSON("segments.json", segs)
		}
		if rep, err := s.Verify(ctx); err == nil {
			b.JSON("verify.json", rep)
		} else {
			problems["verify"] = bill.ErrorMessage(err)
		}
		if stats, err := s.Stats(ctx); err == nil {
			b.JSON("database.json", stats)
		} else {
			problems["database"] = bill.ErrorMessage(err)
		}
		s.Close()
	}
	if len(problems) > 0 {
		b.JSON("problems.json", problems)
	}
	for _, l := range []string{"sync.log", "desk.log", "install.log"} {
		b.LogTail("logs/"+l, filepath.Join(a.dataDir, l), 1<<20)
	}
	if err := b.Close(); err != nil {
		return bill.Errorf(bill.EInvalid, "写入 %s 失败：%v", *out, err)
	}
	return a.Report(map[string]string{"file": *out}, "诊断包已写入 %s（不含密钥、密码，日志中的证件号和手机号已打码），可发给技术支持。\n", *out)
}
