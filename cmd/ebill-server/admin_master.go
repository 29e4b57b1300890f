package main

// The administration commands of users and the audit trail, and of the
// master data stations pull: charge items, pay channels, messages.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/cli"
	"github.com/ebill/ebill/cmd/internal/textout"
	"github.com/ebill/ebill/server"
)

func cmdUser(ctx context.Context, a *app, args []string) error {
	return sub(a, "user", args, map[string]func([]string) error{
		"add": func(args []string) error {
			fs := a.flags("user add", "登录名 --name 姓名 [--roles 角色,…] （一次性密码：环境变量 EBILL_PASSWORD，或在终端输入）")
			name := fs.String("name", "", "姓名")
			roles := fs.String("roles", "", "角色，逗号分隔（授予角色须安全管理员办理，可用 user roles）："+roleChoices())
			login, err := a.parse(fs, args, true)
			if err != nil {
				return err
			}
			password := a.ask("EBILL_PASSWORD", "请输入一次性密码（本人首次登录时须修改）：")
			u := server.User{Login: login, Name: *name, Roles: splitList(*roles)}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.AddUser(ctx, u, password); err != nil {
					return err
				}
				return a.Report(u, "已添加用户 %s %s（%s），其首次登录时须修改密码。\n", u.Login, u.Name, roleNames(u.Roles))
			})
		},
		"roles": func(args []string) error {
			fs := a.flags("user roles", "登录名 --roles 角色,…")
			roles := fs.String("roles", "", "角色，逗号分隔："+roleChoices())
			login, err := a.parse(fs, args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.SetRoles(ctx, login, splitList(*roles)); err != nil {
					return err
				}
				return a.Report(map[string]any{"login": login, "roles": splitList(*roles)}, "%s 的角色已改为：%s；其已有的登录已失效。\n", login, roleNames(splitList(*roles)))
			})
		},
		"points": func(args []string) error {
			fs := a.flags("user points", "登录名 --points P01,P02")
			points := fs.String("points", "", "可登录的开票点，逗号分隔；留空为任意开票点")
			login, err := a.parse(fs, args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.SetUserPoints(ctx, login, splitList(*points)); err != nil {
					return err
				}
				where := "任意开票点"
				if *points != "" {
					where = "开票点 " + *points
				}
				return a.Report(map[string]any{"login": login, "points": splitList(*points)}, "%s 只能在%s登录；收费电脑同步后生效。\n", login, where)
			})
		},
		"disable": func(args []string) error {
			return a.userChange(ctx, "user disable", args, "已停用 %s，其登录已失效。\n", func(s *server.Store, l string) error { return s.SetDisabled(ctx, l, true) })
		},
		"enable": func(args []string) error {
			return a.userChange(ctx, "user enable", args, "已启用 %s。\n", func(s *server.Store, l string) error { return s.SetDisabled(ctx, l, false) })
		},
		"unlock": func(args []string) error {
			return a.userChange(ctx, "user unlock", args, "已解除 %s 的锁定。\n", func(s *server.Store, l string) error { return s.Unlock(ctx, l) })
		},
		"reset-password": func(args []string) error {
			login, err := a.parse(a.flags("user reset-password", "登录名"), args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				pw, err := s.ResetPassword(ctx, login)
				if err != nil {
					return err
				}
				return a.Report(map[string]string{"login": login, "password": pw},
					"%s 的一次性密码（只显示这一次，请当面交给本人；其登录时须修改）：%s\n", login, pw)
			})
		},
		"list": func(args []string) error {
			return a.withStore(ctx, func(s *server.Store) error {
				users, err := s.Users(ctx)
				if err != nil {
					return err
				}
				if a.JSON {
					a.PrintJSON(nonNil(users))
					return nil
				}
				w := textout.NewTable(a.Stdout)
				fmt.Fprintln(w, "登录名\t姓名\t角色\t状态")
				for _, u := range users {
					var names []string
					for _, r := range u.Roles {
						names = append(names, server.RoleNames[r])
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", u.Login, u.Name, strings.Join(names, "、"), map[bool]string{true: "停用", false: "正常"}[u.Disabled])
				}
				return w.Flush()
			})
		},
	})
}

// userChange runs a change to one account named on the command line.
func (a *app) userChange(ctx context.Context, name string, args []string, done string, change func(*server.Store, string) error) error {
	login, err := a.parse(a.flags(name, "登录名"), args, true)
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(s *server.Store) error {
		if err := change(s, login); err != nil {
			return err
		}
		return a.Report(map[string]string{"login": login}, done, login)
	})
}

func roleChoices() string {
	var parts []string
	for _, r := range server.RoleOrder {
		parts = append(parts, r+" "+server.RoleNames[r])
	}
	return strings.Join(parts, "、")
}

func cmdAudit(ctx context.Context, a *app, args []string) error {
	return sub(a, "audit", args, map[string]func([]string) error{
		"list": func(args []string) error {
			fs := a.flags("audit list", "[--after 序号] [--limit 条数]")
			after := cli.Int64(fs, "after", 0, 0, "只列出此序号之后的记录")
			limit := cli.Int(fs, "limit", 100, 1, "最多条数")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				recs, err := s.AuditTrail(ctx, *after, *limit)
				if err != nil {
					return err
				}
				if a.JSON {
					a.PrintJSON(nonNil(recs))
					return nil
				}
				w := textout.NewTable(a.Stdout)
				fmt.Fprintln(w, "序号\t时间\t操作人\t来源\t操作\t对象\t详情")
				for _, r := range recs {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, beijing(r.At), r.Actor, r.Remote, r.Action, r.Target, r.Detail)
				}
				return w.Flush()
			})
		},
		"verify": func(args []string) error {
			fs := a.flags("audit verify", "[--checkpoint 检查点文件] [--archive 归档文件]")
			cpFile := fs.String("checkpoint", "", "另外核对一个存档的检查点（audit checkpoint 导出）")
			archive := fs.String("archive", "", "只核对一个归档文件（audit archive 写出）的链接和检查点")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if *archive != "" {
					n, err := s.VerifyAuditArchive(ctx, *archive)
					if err != nil {
						return err
					}
					return a.Report(map[string]any{"valid": true, "records": n}, "归档文件校验通过：共 %d 条，链接和检查点完整。\n", n)
				}
				n, err := s.VerifyAudit(ctx)
				if err != nil {
					return err
				}
				if *cpFile != "" {
					raw, err := os.ReadFile(*cpFile)
					if err != nil {
						return bill.Errorf(bill.EInvalid, "无法读取检查点文件：%v", err)
					}
					var cp server.AuditCheckpoint
					if err := json.Unmarshal(raw, &cp); err != nil {
						return bill.Errorf(bill.EInvalid, "检查点文件格式不正确：%v", err)
					}
					if err := s.VerifyCheckpoint(ctx, cp); err != nil {
						return err
					}
				}
				return a.Report(map[string]any{"valid": true, "records": n}, "审计记录校验通过：共 %d 条，哈希链完整（密钥链接）。\n", n)
			})
		},
		"archive": func(args []string) error {
			flags := a.flags("audit archive", "--month 2026-05 [--dir 目录]")
			month := flags.String("month", "", "归档的月份（已结束的月份），如 2026-05")
			dir := flags.String("dir", "", "归档目录；默认 数据目录/archive")
			if _, err := a.parse(flags, args, false); err != nil {
				return err
			}
			m, err := time.ParseInLocation("2006-01", *month, bill.Beijing)
			if err != nil {
				return bill.Errorf(bill.EInvalid, "--month 应为 年-月，如 2026-05。")
			}
			if *dir == "" {
				*dir = filepath.Join(a.dataDir, "archive")
			}
			return a.withStore(ctx, func(s *server.Store) error {
				path, n, err := s.ArchiveAudit(ctx, *dir, m)
				if errors.Is(err, fs.ErrExist) {
					return bill.Errorf(bill.EConflict, "%s 已归档（%s），归档文件不会被覆盖。", *month, path)
				}
				if err != nil {
					return err
				}
				return a.Report(map[string]any{"file": path, "records": n}, "已归档 %s 的审计记录 %d 条：%s。请复制到只读介质保存。\n", *month, n, path)
			})
		},
		"checkpoint": func(args []string) error {
			fs := a.flags("audit checkpoint", "--out 文件")
			out := fs.String("out", "", "检查点写入此文件（请另行存档，如刻盘或打印）")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				cp, err := s.Checkpoint(ctx)
				if err != nil {
					return err
				}
				if *out != "" {
					raw, _ := json.MarshalIndent(cp, "", "  ")
					if err := os.WriteFile(*out, raw, 0o600); err != nil {
						return bill.Errorf(bill.EInvalid, "无法写入 %s：%v", *out, err)
					}
				}
				return a.Report(cp, "审计检查点：第 %d 条，哈希 %s，校验码 %s。请存档，日后用 audit verify --checkpoint 核对。\n", cp.Seq, cp.Hash, cp.MAC)
			})
		},
	})
}

func cmdItem(ctx context.Context, a *app, args []string) error {
	return sub(a, "item", args, map[string]func([]string) error{
		"import": func(args []string) error {
			fs := a.flags("item import", "--file 收费项目.csv（首行 code,name,category,unit,spec,price,class）")
			file := fs.String("file", "", "CSV 文件，UTF-8 编码")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			f, err := os.Open(*file)
			if err != nil {
				return bill.Errorf(bill.EInvalid, "无法打开文件 %s：%v", *file, err)
			}
			defer f.Close()
			return a.withStore(ctx, func(s *server.Store) error {
				n, err := s.ImportChargeItems(ctx, f)
				if err != nil {
					return err
				}
				return a.Report(map[string]int{"imported": n}, "已导入 %d 个收费项目，收费电脑同步后生效。\n", n)
			})
		},
	})
}

func cmdPayChannel(ctx context.Context, a *app, args []string) error {
	return sub(a, "paychannel", args, map[string]func([]string) error{
		"set": func(args []string) error {
			fs := a.flags("paychannel set", "编码 --name 名称 [--disabled]")
			name := fs.String("name", "", "名称，例如 医保统筹")
			disabled := fs.Bool("disabled", false, "停用")
			code, err := a.parse(fs, args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.SetPayChannel(ctx, code, *name, *disabled); err != nil {
					return err
				}
				return a.Report(map[string]any{"code": code, "name": *name, "disabled": *disabled}, "交费渠道 %s %s 已保存。\n", code, *name)
			})
		},
	})
}

func cmdMessage(ctx context.Context, a *app, args []string) error {
	return sub(a, "message", args, map[string]func([]string) error{
		"post": func(args []string) error {
			fs := a.flags("message post", "--title 标题 --body 内容 [--point 开票点]")
			title := fs.String("title", "", "标题")
			body := fs.String("body", "", "内容")
			point := fs.String("point", "", "只发给此开票点；不填发给全部")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.PostMessage(ctx, *point, *title, *body); err != nil {
					return err
				}
				return a.Report(map[string]string{"title": *title}, "消息已发送，收费电脑同步后可见。\n")
			})
		},
	})
}
