package server

import (
	"context"
	"slices"
	"strings"

	"github.com/ebill/ebill/bill"
)

// Roles (console.md, security.md §3). The three administrator roles of MLPS
// level 3 (三员) are separated from each other and from the business
// roles; a bill administrator is never also a checker (制单与审核分离).
const (
	RoleSysAdmin  = "sysadmin"   // 系统管理员
	RoleSecAdmin  = "secadmin"   // 安全管理员
	RoleAuditor   = "auditor"    // 审计管理员
	RoleBillAdmin = "bill_admin" // 票据管理员
	RoleChecker   = "checker"    // 票据审核
	RoleFinance   = "finance"    // 财务查询 (console.md's viewer)
	RoleCashier   = "cashier"    // 收费员
	RoleExamNurse = "exam_nurse" // 体检护士
)

// Permissions: one name per thing a person may do, checked by the store
// function that does it, whoever calls it (console, API, CLI).
const (
	PermUserManage   = "user.manage"        // create, disable, reset another's password
	PermRoleGrant    = "role.grant"         // grant and revoke roles
	PermPolicy       = "policy.manage"      // the security policy's figures
	PermUnlock       = "account.unlock"     // end a lockout
	PermMFAReset     = "mfa.reset"          // reset another's second factor
	PermTokenIssue   = "token.issue"        // API tokens for scripts and jobs
	PermHISApps      = "his.manage"         // HIS apps and their allowed addresses
	PermAuditRead    = "audit.read"         // query the audit trail
	PermAuditExport  = "audit.export"       // export it
	PermAuditVerify  = "audit.verify"       // verify its chain
	PermSystem       = "system.configure"   // parameters
	PermBackup       = "backup.run"         // backup and restore
	PermPointManage  = "point.manage"       // billing points, enrolment codes
	PermStockReceive = "stock.receive"      // stock intake, distribution
	PermStockApprove = "stock.approve"      // approve intake, write-offs, corrections
	PermUnitManage   = "unit.manage"        // unit, kinds and codes, charge items
	PermSegment      = "segment.allocate"   // give numbers to points
	PermWriteOff     = "writeoff.prepare"   // write-off declarations (制单)
	PermCorrect      = "correction.request" // data-correction requests (数据修正)
	PermInspect      = "inspection.run"     // inspection reports and the maintenance log (运维)
	PermBillQuery    = "bill.query"         // queries and reports
	PermReportView   = "report.view"
	PermBillIssue    = "bill.issue" // the desk's work
	PermBillRed      = "bill.red"
	PermPaperPrint   = "paper.print"
	PermClosingOwn   = "closing.own"
	PermClosingAll   = "closing.all"
)

// RolePermissions is the permission table: what each role may do. It is
// the only place that says so.
var RolePermissions = map[string][]string{
	RoleSysAdmin:  {PermUserManage, PermSystem, PermBackup, PermPointManage, PermInspect},
	RoleSecAdmin:  {PermRoleGrant, PermPolicy, PermUnlock, PermMFAReset, PermTokenIssue, PermHISApps},
	RoleAuditor:   {PermAuditRead, PermAuditExport, PermAuditVerify},
	RoleBillAdmin: {PermStockReceive, PermPointManage, PermSegment, PermUnitManage, PermWriteOff, PermCorrect, PermBillQuery, PermReportView},
	RoleChecker:   {PermStockApprove, PermBillQuery, PermReportView},
	RoleFinance:   {PermBillQuery, PermReportView, PermClosingAll},
	RoleCashier:   {PermBillIssue, PermBillRed, PermPaperPrint, PermBillQuery, PermClosingOwn},
	RoleExamNurse: {PermBillIssue, PermPaperPrint, PermBillQuery, PermClosingOwn},
}

// RoleNames are the roles' Chinese names.
var RoleNames = map[string]string{RoleSysAdmin: "系统管理员", RoleSecAdmin: "安全管理员", RoleAuditor: "审计管理员",
	RoleBillAdmin: "票据管理员", RoleChecker: "票据审核", RoleFinance: "财务查询", RoleCashier: "收费员", RoleExamNurse: "体检护士"}

// RoleOrder lists the roles as screens and messages list them.
var RoleOrder = []string{RoleSysAdmin, RoleSecAdmin, RoleAuditor, RoleBillAdmin, RoleChecker, RoleFinance, RoleCashier, RoleExamNurse}

// AdminRoles are the three administrators of MLPS level 3.
var AdminRoles = []string{RoleSysAdmin, RoleSecAdmin, RoleAuditor}

// Can reports whether the user's roles grant a permission.
func (u *User) Can(permission string) bool {
	for _, r := range u.Roles {
		if slices.Contains(RolePermissions[r], permission) {
			return true
		}
	}
	return false
}

func roleList() string {
	var parts []string
	for _, r := range RoleOrder {
		parts = append(parts, r+" "+RoleNames[r])
	}
	return strings.Join(parts, "、")
}

// checkRoles: known roles, at least one, and none of the exclusive pairs —
// an administrator role with any other role, a bill administrator with a
// checker.
func checkRoles(roles []string) error {
	if len(roles) == 0 {
		return bill.Errorf(bill.EInvalid, "请至少指定一个角色。")
	}
	for _, r := range roles {
		if _, ok := RolePermissions[r]; !ok {
			return bill.Errorf(bill.EInvalid, "未知角色 %q，可选：%s", r, roleList())
		}
	}
	for _, r := range roles {
		if slices.Contains(AdminRoles, r) && len(roles) > 1 {
			return bill.Errorf(bill.EInvalid, "系统管理员、安全管理员、审计管理员须分别由不同的人担任，且不能兼任其他角色（三员分立）。")
		}
	}
	if slices.Contains(roles, RoleBillAdmin) && slices.Contains(roles, RoleChecker) {
		return bill.Errorf(bill.EInvalid, "票据管理员与票据审核不能由同一人担任（制单与审核分离）。")
	}
	return nil
}

// Authorize checks that the actor of ctx may do what perm names (the
// administration commands ask before running); a refusal is audited.
func (s *Store) Authorize(ctx context.Context, perm string) error {
	_, err := s.authorize(ctx, perm)
	return err
}

// authorize checks that the actor of ctx may do what perm names, and
// returns the signed-in user (nil for the system itself: the server's own
// jobs, and, until they sign in, the administration commands). A refusal
// is audited.
func (s *Store) authorize(ctx context.Context, perm string) (*User, error) {
	a := actorOf(ctx)
	if a.User == nil {
		if a.System {
			return nil, nil
		}
		return nil, bill.Errorf(bill.EUnauthorized, "请先登录。")
	}
	if a.User.Can(perm) {
		return a.User, nil
	}
	if err := s.tx(ctx, func(t *dbtx) error {
		return t.audit(ctx, "denied", perm, map[string]any{"login": a.User.Login, "roles": a.User.Roles})
	}); err != nil {
		return nil, err
	}
	return nil, bill.Errorf(bill.EForbidden, "您没有此操作的权限（%s）；如需办理，请联系安全管理员授权。", perm)
}

// AuditRefusal records a request refused before it reached a store
// function (a cross-origin write to the console), for the audit trail.
func (s *Store) AuditRefusal(ctx context.Context, action, target string, detail any) error {
	return s.tx(ctx, func(t *dbtx) error { return t.audit(ctx, action, target, detail) })
}
