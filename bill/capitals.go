package bill

import "strings"

var capitalDigits = []string{"零", "壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"}

// Capitals writes m in Chinese capital numerals (大写) as the bill face
// shows it, after the People's Bank rules for filling in bills:
// 壹佰贰拾叁元肆角伍分; 整 after 元 or 角 when no 分 follows; one 零 for any run
// of zeros inside the number; 零 before 分 when 角 is zero; 壹拾 for ten;
// 零元整 for zero; 负 before a negative amount (red bills).
func (m Money) Capitals() string {
	if m == 0 {
		return "零元整"
	}
	var b strings.Builder
	if m < 0 {
		b.WriteString("负")
		m = -m
	}
	yuan, jiao, fen := int64(m)/100, int64(m)/10%10, int64(m)%10
	if yuan > 0 {
		b.WriteString(capitalInteger(yuan))
		b.WriteString("元")
	}
	switch {
	case jiao == 0 && fen == 0:
		b.WriteString("整")
	case fen == 0:
		b.WriteString(capitalDigits[jiao] + "角整")
	case jiao == 0:
		if yuan > 0 {
			b.WriteString("零")
		}
		b.WriteString(capitalDigits[fen] + "分")
	default:
		b.WriteString(capitalDigits[jiao] + "角" + capitalDigits[fen] + "分")
	}
	return b.String()
}

// capitalInteger writes n > 0 (below 1万亿) in groups of four digits.
func capitalInteger(n int64) string {
	groupUnits := []string{"", "万", "亿"}
	var groups []int64
	for ; n > 0; n /= 10000 {
		groups = append(groups, n%10000)
	}
	var b strings.Builder
	zeroPending := false
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		if g == 0 {
			zeroPending = b.Len() > 0
			continue
		}
		if b.Len() > 0 && (zeroPending || g < 1000) {
			b.WriteString("零")
		}
		b.WriteString(capitalGroup(g))
		b.WriteString(groupUnits[i])
		zeroPending = false
	}
	return b.String()
}

// capitalGroup writes 1..9999 with 仟佰拾 and single 零 for inner zeros.
func capitalGroup(g int64) string {
	units := []string{"仟", "佰", "拾", ""}
	digits := []int64{g / 1000, g / 100 % 10, g / 10 % 10, g % 10}
	var b strings.Builder
	started, zero := false, false
	for i, d := range digits {
		if d == 0 {
			zero = started
			continue
		}
		if zero {
			b.WriteString("零")
		}
		b.WriteString(capitalDigits[d] + units[i])
		started, zero = true, false
	}
	return b.String()
}
