package bill

import (
	"fmt"
	"time"
)

// Limits are a billing point's offline limits (domain.md §4.3), set
// centrally. A zero field means "no limit" for that measure.
type Limits struct {
	MaxHours  int   `json:"maxHours"`  // since the oldest unsynced bill
	MaxCount  int   `json:"maxCount"`  // unsynced bills
	MaxAmount Money `json:"maxAmount"` // cumulative unsynced amount (absolute values)
	MaxSingle Money `json:"maxSingle"` // one blue bill's total
}

// DefaultLimits apply until the server sends a point's own.
var DefaultLimits = Limits{MaxHours: 72, MaxCount: 5000, MaxAmount: 200_000_000, MaxSingle: 10_000_000}

// WarnRatio is the share of a limit from which a warning is shown.
const WarnRatio = 0.8

// OfflineState is what a billing point has not yet uploaded.
type OfflineState struct {
	Count  int
	Amount Money     // sum of absolute totals
	Oldest time.Time // issue time of the oldest unsynced bill; zero if none
}

// Usage is one limit's use, for status displays.
type Usage struct {
	Name  string  // Chinese name of the measure
	Used  string  // formatted use
	Limit string  // formatted limit
	Ratio float64 // used / limit; 0 when unlimited
}

// Usages reports each limit's use at now.
func (l Limits) Usages(st OfflineState, now time.Time) []Usage {
	hours := 0.0
	if !st.Oldest.IsZero() {
		hours = now.Sub(st.Oldest).Hours()
	}
	return []Usage{
		{"离线时长", fmt.Sprintf("%.1f 小时", hours), fmt.Sprintf("%d 小时", l.MaxHours), ratio(hours, float64(l.MaxHours))},
		{"未上传张数", fmt.Sprintf("%d 张", st.Count), fmt.Sprintf("%d 张", l.MaxCount), ratio(float64(st.Count), float64(l.MaxCount))},
		{"未上传金额", st.Amount.String() + " 元", l.MaxAmount.String() + " 元", ratio(float64(st.Amount), float64(l.MaxAmount))},
	}
}

func ratio(used, limit float64) float64 {
	if limit <= 0 {
		return 0
	}
	return used / limit
}

// Check decides whether one more bill of the given total may be issued
// offline. It returns an ELimit *Error, saying what to do, when a hard limit
// would be passed, and Chinese warnings for each limit at 80 % or more.
// Single-bill limits apply to blue bills only: a red bill mirrors a bill
// already issued.
func (l Limits) Check(st OfflineState, now time.Time, total Money, red bool) ([]string, error) {
	abs := total
	if abs < 0 {
		abs = -abs
	}
	const fix = "请连接网络并等待票据上传（或执行“立即同步”）后再开票；如长期无法联网，请联系票据管理员。"
	if !red && l.MaxSingle > 0 && abs > l.MaxSingle {
		return nil, Errorf(ELimit, "单张票据金额 %s 元超过离线单张上限 %s 元，不能离线开具；请联网后开具或联系票据管理员。", abs, l.MaxSingle)
	}
	hours := 0.0
	if !st.Oldest.IsZero() {
		hours = now.Sub(st.Oldest).Hours()
	}
	if l.MaxHours > 0 && hours >= float64(l.MaxHours) {
		return nil, Errorf(ELimit, "最早一张未上传票据已离线 %.1f 小时，超过上限 %d 小时，已停止开票。%s", hours, l.MaxHours, fix)
	}
	if l.MaxCount > 0 && st.Count+1 > l.MaxCount {
		return nil, Errorf(ELimit, "未上传票据已有 %d 张，达到上限 %d 张，已停止开票。%s", st.Count, l.MaxCount, fix)
	}
	if l.MaxAmount > 0 && st.Amount+abs > l.MaxAmount {
		return nil, Errorf(ELimit, "未上传票据累计金额 %s 元加本张 %s 元将超过上限 %s 元，已停止开票。%s", st.Amount, abs, l.MaxAmount, fix)
	}
	next := OfflineState{Count: st.Count + 1, Amount: st.Amount + abs, Oldest: st.Oldest}
	if next.Oldest.IsZero() {
		next.Oldest = now
	}
	var warnings []string
	for _, u := range l.Usages(next, now) {
		if u.Ratio >= WarnRatio {
			warnings = append(warnings, fmt.Sprintf("%s已达上限的 %.0f%%（%s / %s），请尽快联网上传票据。", u.Name, u.Ratio*100, u.Used, u.Limit))
		}
	}
	return warnings, nil
}
