package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/private"
	"github.com/ebill/ebill/localstore"
)

// cmdRestore replaces the station database with a backup, after checking
// the backup in a folder of its own: it must open, pass quick_check and
// verify (signatures, chain, numbers). The current files are renamed, not
// deleted. A current database that is sound and newer than the backup is
// kept unless --force says otherwise. After a restore the next sync
// compares the chain with the server's: if the server holds bills this
// database lacks, issuing stops until the point is enrolled again (issue
// 20: no number is ever used twice).
func cmdRestore(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("restore", "--from 备份文件 [--key 数据密钥文件] [--force]")
	from := fs.String("from", "", "ebill backup 写出的备份文件")
	keyFile := fs.String("key", "", "备份对应的数据密钥（keys\\data.key）；默认用本机数据目录中的")
	force := fs.Bool("force", false, "当前数据完好且比备份新时仍然恢复")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("from", *from); err != nil {
		return err
	}
	key := *keyFile
	if key == "" {
		key = filepath.Join(a.dataDir, localstore.DataKeyFile)
	}
	if _, err := os.Stat(key); err != nil {
		return bill.Errorf(bill.EInvalid, "找不到数据密钥 %s：备份中不含密钥，请用 --key 指定密钥备份中的 data.key。", key)
	}

	// 1. The backup, checked where nothing else is.
	check, err := os.MkdirTemp("", "ebill-restore-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(check)
	if err := private.Copy(*from, filepath.Join(check, localstore.FileName)); err != nil {
		return bill.Errorf(bill.EInvalid, "无法读取备份文件 %s：%v", *from, err)
	}
	if err := private.Copy(key, filepath.Join(check, localstore.DataKeyFile)); err != nil {
		return err
	}
	b, err := localstore.Open(ctx, check, localstore.WithLogger(a.Log))
	if err != nil {
		return fmt.Errorf("备份文件不可用，未做任何改动：%w", err)
	}
	rep, err := b.Verify(ctx)
	var backupSeq int64
	if st, serr := b.Station(ctx); serr == nil {
		backupSeq = st.ChainSeq
	}
	b.Close()
	if err != nil {
		return err
	}
	if !rep.OK() {
		for _, p := range rep.Problems {
			a.Printf("  %s\n", p.String())
		}
		return reported{Err: bill.Errorf(bill.ETampered, "备份文件校验不通过（%d 处问题），未做任何改动。", len(rep.Problems))}
	}

	// 2. The current database: kept when sound and newer, unless --force.
	cur := filepath.Join(a.dataDir, localstore.FileName)
	if _, err := os.Stat(cur); err == nil && !*force {
		if s, err := localstore.Open(ctx, a.dataDir, localstore.WithLogger(a.Log)); err == nil {
			st, serr := s.Station(ctx)
			crep, verr := s.Verify(ctx)
			s.Close()
			if serr == nil && verr == nil && crep.OK() && st.ChainSeq >= backupSeq {
				return bill.Errorf(bill.EConflict, "当前数据完好（%d 张票据，开票链到第 %d 张），比备份（到第 %d 张）新，不需要恢复；"+
					"确需恢复请加 --force（恢复后本机可能需要重新注册）。", crep.Bills, st.ChainSeq, backupSeq)
			}
		}
	}

	// 3. Replace: the current files are renamed, then the backup copied in.
	stamp := time.Now().In(bill.Beijing).Format("20060102-150405")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(cur + suffix); err == nil {
			if err := os.Rename(cur+suffix, cur+suffix+".replaced-"+stamp); err != nil {
				return bill.Errorf(bill.EInvalid, "无法移开当前数据文件（%v）：请先关闭收费桌面程序并停止同步服务（ebill sync stop），再恢复。", err)
			}
		}
	}
	if err := private.Copy(*from, cur); err != nil {
		return err
	}
	if dst := filepath.Join(a.dataDir, localstore.DataKeyFile); dst != key {
		if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
			if err := private.Copy(key, dst); err != nil {
				return err
			}
		}
	}
	return a.Report(map[string]any{"restored": *from, "bills": rep.Bills, "chainSeq": backupSeq, "replaced": cur + ".replaced-" + stamp},
		"已从 %s 恢复：%d 张票据，校验通过。原数据文件改名保留为 %s。\n"+
			"下次同步时会与服务器核对：若服务器已有本机在备份之后开出的票据，本机将停止开票并提示重新注册。\n",
		*from, rep.Bills, cur+".replaced-"+stamp)
}
