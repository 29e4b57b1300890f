// Package adminboot takes a new ebill-server through its bootstrap the way
// the hospital's administrators do, at the command line: `init`, the
// system and security administrators' first sign-in (their one-time
// password changed, a second factor set up), service accounts with a role
// each, and an API token for each. The tests, the bench and the demo use
// it to get the tokens their administration commands run with.
package adminboot

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/ebill/ebill/server"
)

// Run runs one ebill-server command with --json and extra environment
// variables, returning its standard output.
type Run func(env []string, args ...string) ([]byte, error)

// Result is what the bootstrap made.
type Result struct {
	Admins   []server.InitialAdmin // with the passwords they were given now
	Sessions map[string][]string   // role → the environment of its administrator's session
	Tokens   map[string]string     // role → the API token of its service account
}

// ServiceRoles are the roles service accounts are made for.
var ServiceRoles = []string{server.RoleBillAdmin, server.RoleChecker, server.RoleSysAdmin, server.RoleSecAdmin, server.RoleAuditor}

// Bootstrap runs the bootstrap; password is what the administrators' and
// service accounts' passwords become, sessionDir where the sessions' token
// files go, days the tokens' life.
func Bootstrap(run Run, sessionDir, password string, days int) (*Result, error) {
	r := &Result{Sessions: map[string][]string{}, Tokens: map[string]string{}}
	out, err := run(nil, "init")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(out, &r.Admins); err != nil || len(r.Admins) != 3 {
		return nil, fmt.Errorf("init answered %s", out)
	}
	for _, ad := range r.Admins {
		if ad.Role == server.RoleAuditor {
			continue
		}
		env := []string{"EBILL_SESSION_FILE=" + filepath.Join(sessionDir, ad.Login+".session")}
		if _, err := run(append(env, "EBILL_USER="+ad.Login, "EBILL_PASSWORD="+ad.Password, "EBILL_NEW_PASSWORD="+password), "login"); err != nil {
			return nil, err
		}
		out, err := run(env, "mfa", "enroll")
		if err != nil {
			return nil, err
		}
		var enroll struct{ Secret string }
		if err := json.Unmarshal(out, &enroll); err != nil {
			return nil, err
		}
		code, err := Code(enroll.Secret, time.Now())
		if err != nil {
			return nil, err
		}
		if _, err := run(env, "mfa", "confirm", "--code", code); err != nil {
			return nil, err
		}
		r.Sessions[ad.Role] = env
	}
	for _, role := range ServiceRoles {
		login := "svc-" + strings.ReplaceAll(role, "_", "-")
		if _, err := run(append(r.Sessions[server.RoleSysAdmin], "EBILL_PASSWORD="+password), "user", "add", login, "--name", server.RoleNames[role]+"服务账号"); err != nil {
			return nil, err
		}
		if _, err := run(r.Sessions[server.RoleSecAdmin], "user", "roles", login, "--roles", role); err != nil {
			return nil, err
		}
		out, err := run(r.Sessions[server.RoleSecAdmin], "token", "issue", "--user", login, "--name", "脚本", "--days", fmt.Sprint(days))
		if err != nil {
			return nil, err
		}
		var tk struct{ Token string }
		if err := json.Unmarshal(out, &tk); err != nil || !strings.HasPrefix(tk.Token, server.TokenPrefix) {
			return nil, fmt.Errorf("token issue answered %s", out)
		}
		r.Tokens[role] = tk.Token
	}
	return r, nil
}

// TokenFor is the token of the service account whose role grants perm;
// "" when none does.
func (r *Result) TokenFor(perm string) string {
	for _, role := range ServiceRoles {
		if slices.Contains(server.RolePermissions[role], perm) {
			return r.Tokens[role]
		}
	}
	return ""
}

// Code is an authenticator app's code for a TOTP secret at a time.
func Code(secret string, at time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}
