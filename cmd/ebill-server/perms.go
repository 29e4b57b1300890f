package main

import (
	"github.com/ebill/ebill/server"
)

// The permission each administration command needs (security.md AC-1,
// AC-5): the signed-in person's roles must grant it, checked before the
// command runs; the store's own functions check again where they hold
// the rule (accounts, roles, policy, tokens).

// permPublic: the command needs no sign-in — running the service, the
// bootstrap, signing in and out, and what reads no business data.
const permPublic = ""

// permSignedIn: any signed-in person (their own second factor).
const permSignedIn = "signed-in"

// commandPerms maps "command subcommand" (or "command") to its permission.
var commandPerms = map[string]string{
	// The OS decides who may install and control services (root, administrators).
	"service install": permPublic, "service uninstall": permPublic, "service start": permPublic, "service stop": permPublic,
	"service status": permPublic,
	"serve":          permPublic, "migrate": permPublic, "version": permPublic, "init": permPublic,
	"login": permPublic, "logout": permPublic, "tls fingerprint": permPublic,
	"his-app call": permPublic,                            // a HIS caller's test call over HTTPS, with that app's own key
	"mfa enroll":   permPublic, "mfa confirm": permPublic, // the session's own step, checked by the store
	// Restoring writes a new data folder or an empty database from a backup file: who may do that is
	// decided by the operating system and PostgreSQL (like serve and migrate); what it changes in the
	// restored ledger only restricts (allocation held, stock moved forward), and it is audited.
	"restore": permPublic,

	"unit set":             server.PermUnitManage,
	"kind set":             server.PermUnitManage,
	"kind list":            server.PermBillQuery,
	"stock receive":        server.PermStockReceive,
	"stock list":           server.PermBillQuery,
	"stock docs":           server.PermBillQuery,
	"stock approve":        server.PermStockApprove,
	"stock return":         server.PermStockApprove,
	"stock unapprove":      server.PermStockApprove,
	"point add":            server.PermPointManage,
	"point set":            server.PermPointManage,
	"point list":           server.PermPointManage,
	"point enroll-code":    server.PermPointManage,
	"point revoke":         server.PermPointManage,
	"segment list":         server.PermBillQuery,
	"item import":          server.PermUnitManage,
	"paychannel set":       server.PermUnitManage,
	"message post":         server.PermUnitManage,
	"bill list":            server.PermBillQuery,
	"bill show":            server.PermBillQuery,
	"conflict list":        server.PermBillQuery,
	"backup":               server.PermBackup,
	"verify":               server.PermBackup,
	"restore-status":       server.PermBackup,
	"station-version":      server.PermPointManage,
	"station-version list": server.PermPointManage,
	"station-version set":  server.PermPointManage,
	"restore-release":      server.PermBackup,
	"inspect":              server.PermInspect,
	"diag":                 server.PermInspect,
	"maintenance log":      server.PermInspect,
	"maintenance list":     server.PermInspect,
	"paper assign":         server.PermStockReceive,
	"paper distribute":     server.PermStockReceive,
	"paper return":         server.PermStockReceive,
	"point disable":        server.PermPointManage,
	"point enable":         server.PermPointManage,
	"paper list":           server.PermBillQuery,
	"report health":        server.PermReportView,
	"his-app add":          server.PermHISApps,
	"his-app disable":      server.PermHISApps,
	"his-app list":         server.PermHISApps,
	"user add":             server.PermUserManage,
	"user list":            server.PermUserManage,
	"user disable":         server.PermUserManage,
	"user points":          server.PermUserManage,
	"user enable":          server.PermUserManage,
	"user reset-password":  server.PermUserManage,
	"user roles":           server.PermRoleGrant,
	"user unlock":          server.PermUnlock,
	"mfa reset":            server.PermMFAReset,
	"token issue":          server.PermTokenIssue,
	"token list":           server.PermTokenIssue,
	"token revoke":         server.PermTokenIssue,
	"policy show":          server.PermPolicy,
	"policy set":           server.PermPolicy,
	"audit list":           server.PermAuditRead,
	"audit checkpoint":     server.PermAuditExport,
	"audit archive":        server.PermAuditExport,
	"audit verify":         server.PermAuditVerify,
}

// commandPermission is the permission of a command line (its command and
// subcommand); ok is false for a combination the table does not know,
// which is refused (default deny) unless it is only a usage request.
func commandPermission(args []string) (perm string, ok bool) {
	if len(args) == 0 {
		return permPublic, true
	}
	if len(args) > 1 {
		if p, ok := commandPerms[args[0]+" "+args[1]]; ok {
			return p, true
		}
	}
	p, ok := commandPerms[args[0]]
	return p, ok
}
