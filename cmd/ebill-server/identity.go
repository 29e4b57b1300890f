package main

// Signing in at the command line (security.md AC-5), and the commands of
// accounts, roles, second factors, API tokens and the security policy.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/textout"
	"github.com/ebill/ebill/server"
)

// sessionPath is where `ebill-server login` keeps the session's token
// (0600): EBILL_SESSION_FILE, or .ebill-server-session in the home directory.
func (a *app) sessionPath() string {
	if p := a.getenv("EBILL_SESSION_FILE"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".ebill-server-session")
}

func (a *app) saveSession(token string) error {
	p := a.sessionPath()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(p, []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	return os.Chmod(p, 0o600) // a file left by an older version
}

func (a *app) loadSession() string {
	b, err := os.ReadFile(a.sessionPath())
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// ask reads one line: from the environment variable env when set (scripts),
// else from the terminal after a prompt.
func (a *app) ask(env, prompt string) string {
	if v := a.getenv(env); v != "" {
		return v
	}
	fmt.Fprint(a.Stderr, prompt)
	line, _ := a.stdin().ReadString('\n')
	return strings.TrimRight(line, "\r\n")
}

func (a *app) stdin() *bufio.Reader {
	if a.in == nil {
		a.in = bufio.NewReader(os.Stdin)
	}
	return a.in
}

// signIn finds who runs a command — an API token in EBILL_TOKEN (scripts,
// scheduled jobs), else the session of `ebill-server login` — and checks
// that they may do perm. The audit names them. The store it opened is the
// one the command then uses (open), not opened a second time.
func (a *app) signIn(ctx context.Context, perm string) (_ context.Context, err error) {
	s, err := a.open(ctx)
	if err != nil {
		return ctx, err
	}
	defer func() {
		if err != nil {
			s.Close()
			return
		}
		a.opened = s
	}()
	host, _ := os.Hostname()
	var actor server.Actor
	if tok := a.getenv("EBILL_TOKEN"); tok != "" {
		u, tk, err := s.TokenUser(ctx, tok)
		if err != nil {
			return ctx, err
		}
		actor = server.Actor{Who: "token:" + tk.Name + "@" + u.Login, From: host, User: u}
	} else if tok := a.loadSession(); tok != "" {
		u, err := s.Full(ctx, tok)
		if err != nil {
			return ctx, err
		}
		actor = server.Actor{Who: "user:" + u.Login, From: host, User: u}
	} else {
		return ctx, bill.Errorf(bill.EUnauthorized, "请先登录：ebill-server login（脚本和定时任务请把安全管理员签发的令牌放在环境变量 EBILL_TOKEN 中）。")
	}
	ctx = server.WithActor(ctx, actor)
	if perm != permSignedIn {
		if err := s.Authorize(ctx, perm); err != nil {
			return ctx, err
		}
	}
	return ctx, nil
}

func cmdInit(ctx context.Context, a *app, args []string) error {
	fs := a.flags("init", "[--sysadmin 登录名] [--secadmin 登录名] [--auditor 登录名]")
	sys := fs.String("sysadmin", "sysadmin", "系统管理员的登录名")
	sec := fs.String("secadmin", "secadmin", "安全管理员的登录名")
	aud := fs.String("auditor", "auditor", "审计管理员的登录名")
	if _, err := a.parse(fs, args, false); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *server.Store) error {
		admins, err := s.Init(ctx, *sys, *sec, *aud)
		if err != nil {
			return err
		}
		if a.JSON {
			a.PrintJSON(admins)
			return nil
		}
		fmt.Fprintln(a.Stdout, "已创建三员账号。以下一次性密码只显示这一次，请分别当面交给本人；首次登录须修改密码并绑定动态验证码：")
		for _, ad := range admins {
			fmt.Fprintf(a.Stdout, "  %-8s %-10s 一次性密码：%s\n", server.RoleNames[ad.Role], ad.Login, ad.Password)
		}
		return nil
	})
}

func cmdLogin(ctx context.Context, a *app, args []string) error {
	fs := a.flags("login", "[--user 登录名] （密码：EBILL_PASSWORD；新密码：EBILL_NEW_PASSWORD；动态验证码：EBILL_CODE；或在终端输入）")
	user := fs.String("user", "", "登录名")
	if _, err := a.parse(fs, args, false); err != nil {
		return err
	}
	if *user == "" {
		*user = a.ask("EBILL_USER", "登录名：")
	}
	return a.withStore(ctx, func(s *server.Store) error {
		host, _ := os.Hostname()
		ctx := server.WithActor(ctx, server.Actor{Who: "user:" + *user, From: host})
		password := a.ask("EBILL_PASSWORD", "密码：")
		sess, err := s.Login(ctx, *user, password)
		if err != nil {
			return err
		}
		if sess.Stage == server.StageMFA {
			if sess, err = s.VerifyMFA(ctx, sess.Token, a.ask("EBILL_CODE", "动态验证码（或备用码）：")); err != nil {
				return err
			}
		}
		if sess.Stage == server.StagePassword {
			fmt.Fprintln(a.Stderr, "密码为一次性密码或已过期，请设置新密码（至少 8 位，含大写字母、小写字母、数字、符号中的 3 类，不含登录名）。")
			next := a.ask("EBILL_NEW_PASSWORD", "新密码：")
			token := sess.Token
			if sess, err = s.ChangePassword(ctx, token, password, next); err != nil {
				return err
			}
		}
		if err := a.saveSession(sess.Token); err != nil {
			return err
		}
		msg := fmt.Sprintf("已登录：%s（%s）。会话 %d 分钟无操作或满 8 小时后失效。\n", sess.User.Login, sess.User.Name, 15)
		if sess.Stage == server.StageEnroll {
			msg += "您的角色须使用双因素认证：请执行 ebill-server mfa enroll 绑定动态验证码后再办理其他事项。\n"
		}
		return a.Report(map[string]any{"login": sess.User.Login, "stage": sess.Stage, "expiresAt": sess.ExpiresAt}, "%s", msg)
	})
}

func cmdLogout(ctx context.Context, a *app, args []string) error {
	token := a.loadSession()
	if token == "" {
		return a.Report(map[string]bool{"ok": true}, "当前没有登录。\n")
	}
	err := a.withStore(ctx, func(s *server.Store) error { return s.Logout(ctx, token) })
	if rmErr := os.Remove(a.sessionPath()); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) && err == nil {
		err = rmErr
	}
	if err != nil {
		return err
	}
	return a.Report(map[string]bool{"ok": true}, "已退出登录。\n")
}

func cmdMFA(ctx context.Context, a *app, args []string) error {
	return sub(a, "mfa", args, map[string]func([]string) error{
		"enroll": func(args []string) error {
			return a.withStore(ctx, func(s *server.Store) error {
				secret, url, err := s.BeginTOTP(ctx, a.loadSession())
				if err != nil {
					return err
				}
				return a.Report(map[string]string{"secret": secret, "url": url},
					"请在手机验证器（如 Microsoft Authenticator、阿里云 App）中添加账户，密钥：%s\n（或用生成二维码的工具打开 %s）\n然后执行 ebill-server mfa confirm --code 验证器显示的 6 位数字。\n", secret, url)
			})
		},
		"confirm": func(args []string) error {
			fs := a.flags("mfa confirm", "--code 6位数字")
			code := fs.String("code", "", "验证器当前显示的 6 位数字")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				codes, err := s.ConfirmTOTP(ctx, a.loadSession(), *code)
				if err != nil {
					return err
				}
				return a.Report(map[string]any{"backupCodes": codes},
					"已绑定动态验证码。以下 8 个备用码只显示这一次，每个只能用一次，请打印或抄下后妥善保管：\n  %s\n", strings.Join(codes, "\n  "))
			})
		},
		"reset": func(args []string) error {
			login, err := a.parse(a.flags("mfa reset", "登录名"), args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.ResetMFA(ctx, login); err != nil {
					return err
				}
				return a.Report(map[string]string{"login": login}, "已重置 %s 的动态验证码，其下次登录时须重新绑定。\n", login)
			})
		},
	})
}

func cmdToken(ctx context.Context, a *app, args []string) error {
	return sub(a, "token", args, map[string]func([]string) error{
		"issue": func(args []string) error {
			fs := a.flags("token issue", "--user 账号 --name 用途 [--days 天数]")
			user := fs.String("user", "", "令牌代表的账号（人员或服务账号）")
			name := fs.String("name", "", "用途，例如“每日备份”")
			days := fs.Int("days", 30, "有效天数（1–366）")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				token, tk, err := s.IssueAPIToken(ctx, *user, *name, time.Duration(*days)*24*time.Hour)
				if err != nil {
					return err
				}
				return a.Report(map[string]any{"token": token, "id": tk.ID, "login": tk.Login, "expiresAt": tk.ExpiresAt},
					"令牌（只显示这一次，请放入脚本的环境变量 EBILL_TOKEN）：\n%s\n编号 %s，代表 %s，有效至 %s。\n", token, tk.ID, tk.Login,
					tk.ExpiresAt.In(bill.Beijing).Format("2006-01-02 15:04"))
			})
		},
		"list": func(args []string) error {
			return a.withStore(ctx, func(s *server.Store) error {
				list, err := s.APITokens(ctx)
				if err != nil {
					return err
				}
				if a.JSON {
					a.PrintJSON(nonNil(list))
					return nil
				}
				w := textout.NewTable(a.Stdout)
				fmt.Fprintln(w, "编号\t账号\t用途\t有效至\t签发人\t状态")
				for _, t := range list {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Login, t.Name, t.ExpiresAt.In(bill.Beijing).Format("2006-01-02 15:04"),
						t.CreatedBy, map[bool]string{true: "已撤销", false: "有效"}[t.Revoked])
				}
				return w.Flush()
			})
		},
		"revoke": func(args []string) error {
			id, err := a.parse(a.flags("token revoke", "编号"), args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.RevokeAPIToken(ctx, id); err != nil {
					return err
				}
				return a.Report(map[string]string{"id": id}, "已撤销令牌 %s。\n", id)
			})
		},
	})
}

func cmdPolicy(ctx context.Context, a *app, args []string) error {
	return sub(a, "policy", args, map[string]func([]string) error{
		"show": func(args []string) error {
			return a.withStore(ctx, func(s *server.Store) error {
				p, err := s.Policy(ctx)
				if err != nil {
					return err
				}
				return a.Report(p, "密码：至少 %d 位、%d 类字符，不得与最近 %d 次相同，有效期 %d 天\n锁定：连续 %d 次失败（%d 分钟内）锁定 %d 分钟\n会话：空闲 %d 分钟、最长 %d 小时\n须双因素认证的角色：%s\n",
					p.MinLength, p.MinClasses, p.History, p.MaxAgeDays, p.MaxFailures, p.FailureWindowMinutes, p.LockMinutes, p.IdleMinutes, p.SessionHours,
					roleNames(p.MFARoles))
			})
		},
		"set": func(args []string) error {
			fs := a.flags("policy set", "[--min-length N] [--history N] [--max-age-days N] [--max-failures N] [--lock-minutes N] [--idle-minutes N] [--session-hours N] [--mfa-roles 角色,…]")
			return a.withStore(ctx, func(s *server.Store) error {
				p, err := s.Policy(ctx)
				if err != nil {
					return err
				}
				fs.IntVar(&p.MinLength, "min-length", p.MinLength, "密码最短长度（≥8）")
				fs.IntVar(&p.History, "history", p.History, "不得重复使用的历史密码个数（≥5）")
				fs.IntVar(&p.MaxAgeDays, "max-age-days", p.MaxAgeDays, "密码有效期（≤90 天）")
				fs.IntVar(&p.MaxFailures, "max-failures", p.MaxFailures, "连续失败锁定次数（≤5）")
				fs.IntVar(&p.LockMinutes, "lock-minutes", p.LockMinutes, "锁定时长（≥30 分钟）")
				fs.IntVar(&p.IdleMinutes, "idle-minutes", p.IdleMinutes, "空闲超时（≤15 分钟）")
				fs.IntVar(&p.SessionHours, "session-hours", p.SessionHours, "会话最长时间（≤8 小时）")
				mfa := fs.String("mfa-roles", strings.Join(p.MFARoles, ","), "须双因素认证的角色，逗号分隔")
				if _, err := a.parse(fs, args, false); err != nil {
					return err
				}
				p.MFARoles = splitList(*mfa)
				if err := s.SetPolicy(ctx, p); err != nil {
					return err
				}
				return a.Report(p, "已更新安全策略。\n")
			})
		},
	})
}

func roleNames(roles []string) string {
	var names []string
	for _, r := range roles {
		names = append(names, server.RoleNames[r])
	}
	return strings.Join(names, "、")
}
