package bill

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestHISDocFieldTables keeps the field tables of docs/his-integration.md
// true to the settlement's types: every JSON field is listed once, with the
// length limit its tag sets (marked * where it is lenient), or its kind of amount, and a field the
// validation requires is marked required — for all kinds or for exactly
// the kinds that require it.
func TestHISDocFieldTables(t *testing.T) {
	raw, err := os.ReadFile("../docs/his-integration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	tables := []struct {
		after string // the line the table follows
		typ   reflect.Type
	}{
		{"#### 开票业务字段", reflect.TypeOf(Settlement{})},
		{"`chargeDetail` 每行", reflect.TypeOf(ChargeLine{})},
		{"`listDetail` 每行", reflect.TypeOf(DetailLine{})},
		{"`payChannelDetail` 每行", reflect.TypeOf(PayChannel{})},
		{"`otherInfo` 每行", reflect.TypeOf(OtherInfo{})},
	}
	for _, tb := range tables {
		rows := docTable(t, doc, tb.after)
		seen := map[string]bool{}
		for i := 0; i < tb.typ.NumField(); i++ {
			f := tb.typ.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			seen[name] = true
			row, ok := rows[name]
			if !ok {
				t.Errorf("%s: field %s is not in the table", tb.after, name)
				continue
			}
			want := f.Tag.Get("max")
			if want != "" && f.Tag.Get("strict") == "" {
				want += "*" // the spec's length; up to LenientTextMax is accepted
			}
			switch f.Type {
			case reflect.TypeOf(Money(0)):
				want = "金额"
			case reflect.TypeOf(Money4(0)):
				want = "金额4"
			case reflect.TypeOf(Quantity(0)):
				want = "数量"
			}
			if f.Type.Kind() == reflect.Slice {
				want = "列表"
			}
			if row[2] != want {
				t.Errorf("%s: %s has 最长 %q, want %q", tb.after, name, row[2], want)
			}
			switch req := f.Tag.Get("req"); req {
			case "":
				if row[1] != "是" && row[1] != "否" { // "是" where another rule requires it (totalAmt, placeCode)
					t.Errorf("%s: %s has 必填 %q", tb.after, name, row[1])
				}
			case "all":
				if row[1] != "是" {
					t.Errorf("%s: %s is required, the table says %q", tb.after, name, row[1])
				}
			default:
				var kinds []string
				for _, k := range strings.Split(req, ",") {
					kinds = append(kinds, Kind(k).Name())
				}
				if got := strings.Split(row[1], "、"); !slices.Equal(got, kinds) {
					t.Errorf("%s: %s is required for %v, the table says %q", tb.after, name, kinds, row[1])
				}
			}
		}
		for name := range rows {
			if !seen[name] {
				t.Errorf("%s: the table lists %s, which the settlement does not have", tb.after, name)
			}
		}
	}
}

// docTable reads the first table after the line after: field → [说明, 必填, 最长].
func docTable(t *testing.T, doc, after string) map[string][3]string {
	t.Helper()
	i := strings.Index(doc, after)
	if i < 0 {
		t.Fatalf("the document has no %q", after)
	}
	rows := map[string][3]string{}
	inTable := false
	for _, line := range strings.Split(doc[i:], "\n")[1:] {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 4 {
			t.Fatalf("%s: row %q has %d cells", after, line, len(cells))
		}
		name := strings.TrimSpace(cells[0])
		if name == "字段" || strings.HasPrefix(name, "---") {
			continue
		}
		if _, dup := rows[name]; dup {
			t.Errorf("%s: %s twice", after, name)
		}
		rows[name] = [3]string{strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3])}
	}
	return rows
}
