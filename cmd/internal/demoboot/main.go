// Command demoboot bootstraps the demo's server (make run) as its
// administrators would, through ebill-server's own commands (adminboot),
// and writes what the demo needs: the service accounts' API tokens as
// shell variables (tokens.env) and, for the person trying the demo, the
// administrators' passwords and second-factor secrets (管理员账号.txt).
// Both files are 0600 in a 0700 directory.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ebill/ebill/cmd/internal/adminboot"
	"github.com/ebill/ebill/server"
)

const demoPassword = "Demo#Admin2026"

func main() {
	bin := flag.String("bin", "bin/ebill-server", "ebill-server")
	data := flag.String("data", "demo-data/server", "the server's data directory")
	dir := flag.String("dir", "demo-data/admin", "where to write the tokens and the administrators' sheet")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		fail(err)
	}
	secrets := map[string]string{}
	run := func(env []string, args ...string) ([]byte, error) {
		c := exec.Command(*bin, append([]string{"--data", *data, "--json"}, args...)...)
		c.Env = append(os.Environ(), env...)
		var stderr bytes.Buffer
		c.Stderr = &stderr
		out, err := c.Output()
		if err != nil {
			return nil, fmt.Errorf("ebill-server %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		if len(args) == 2 && args[0] == "mfa" && args[1] == "enroll" {
			secrets[sessionOf(env)] = string(out)
		}
		return out, nil
	}
	boot, err := adminboot.Bootstrap(run, *dir, demoPassword, 90)
	if err != nil {
		fail(err)
	}
	var env strings.Builder
	for role, tok := range boot.Tokens {
		fmt.Fprintf(&env, "EBILL_TOKEN_%s=%s\n", strings.ToUpper(strings.ReplaceAll(role, "_", "")), tok)
	}
	if err := os.WriteFile(filepath.Join(*dir, "tokens.env"), []byte(env.String()), 0o600); err != nil {
		fail(err)
	}
	var sheet strings.Builder
	sheet.WriteString("演示环境的三员账号（仅供演示，正式环境请用 ebill-server init 创建并当面交付一次性密码）：\n")
	for _, ad := range boot.Admins {
		if ad.Role == server.RoleAuditor {
			fmt.Fprintf(&sheet, "  %s  登录名 %s  一次性密码 %s（首次登录须修改并绑定动态验证码）\n", server.RoleNames[ad.Role], ad.Login, ad.Password)
			continue
		}
		fmt.Fprintf(&sheet, "  %s  登录名 %s  密码 %s  动态验证码密钥（加入手机验证器）%s\n", server.RoleNames[ad.Role], ad.Login, demoPassword,
			secretOf(secrets[sessionOf(boot.Sessions[ad.Role])]))
	}
	if err := os.WriteFile(filepath.Join(*dir, "管理员账号.txt"), []byte(sheet.String()), 0o600); err != nil {
		fail(err)
	}
	fmt.Print(sheet.String())
}

func sessionOf(env []string) string {
	for _, e := range env {
		if strings.HasPrefix(e, "EBILL_SESSION_FILE=") {
			return e
		}
	}
	return ""
}

// secretOf reads the secret from `mfa enroll --json`.
func secretOf(enrollJSON string) string {
	var out struct{ Secret string }
	json.Unmarshal([]byte(enrollJSON), &out)
	return out.Secret
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "demoboot:", err)
	os.Exit(1)
}
