package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// ebill runs the command in-process and returns stdout, stderr and the exit code.
func ebill(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut, func(string) string { return "" })
	return out.String(), errOut.String(), code
}

func TestDoneWhen(t *testing.T) {
	d := t.TempDir()
	if _, errOut, code := ebill(t, "--data", d, "init", "--place", "P01", "--demo"); code != 0 {
		t.Fatalf("init: %d %s", code, errOut)
	}
	out, errOut, code := ebill(t, "--data", d, "--json", "issue", "-f", "../../examples/outpatient.json")
	if code != 0 {
		t.Fatalf("issue: %d %s", code, errOut)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(out), &first); err != nil {
		t.Fatalf("issue output is not JSON: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`^\d{8}$`).MatchString(first["billCode"].(string)) ||
		!regexp.MustCompile(`^\d{10}$`).MatchString(first["billNo"].(string)) ||
		!regexp.MustCompile(`^[0-9a-f]{6}$`).MatchString(first["checkCode"].(string)) || first["duplicate"] != false {
		t.Fatalf("issue output %v", first)
	}
	out, _, code = ebill(t, "--data", d, "--json", "issue", "-f", "../../examples/outpatient.json")
	var again map[string]any
	json.Unmarshal([]byte(out), &again)
	if code != 0 || again["id"] != first["id"] || again["billNo"] != first["billNo"] || again["duplicate"] != true {
		t.Fatalf("second issue: %d %v", code, again)
	}
	out, _, code = ebill(t, "--data", d, "verify")
	if code != 0 || !strings.Contains(out, "校验通过") || !strings.Contains(out, "链条完整") {
		t.Fatalf("verify: %d %s", code, out)
	}
}

func TestCommandsAndExitCodes(t *testing.T) {
	d := t.TempDir()
	ebill(t, "--data", d, "init", "--place", "P01", "--demo")
	for _, f := range []string{"inpatient", "registration", "exam", "unit-payer"} {
		if _, errOut, code := ebill(t, "--data", d, "issue", "-f", "../../examples/"+f+".json"); code != 0 {
			t.Fatalf("%s: %s", f, errOut)
		}
	}
	out, _, _ := ebill(t, "--data", d, "--json", "show", "--busno", "ZY202611250001")
	if !strings.Contains(out, `"kind": "inpatient"`) || !strings.Contains(out, `"billCode": "35060226"`) {
		t.Fatalf("kind inferred wrongly:\n%s", out)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"red", "--code", "35060126", "--no", "1", "--reason", "退费"}, 0, "红字票据"},
		{[]string{"red", "--code", "35060126", "--no", "1", "--reason", "退费"}, exitConflict, "已冲销"},
		{[]string{"red", "--code", "35060126", "--no", "1"}, exitInvalid, "--reason"},
		{[]string{"red", "--reason", "退费"}, exitInvalid, "--busno"},
		{[]string{"red", "--busno", "NOPE", "--reason", "退费"}, exitConflict, "未找到"},
		{[]string{"red", "--busno", "TJ202611250001", "--reason", "体检取消"}, 0, "冲红 35060126 0000000002"},
		{[]string{"show", "--code", "35060126", "--no", "1"}, 0, "已冲红"},
		{[]string{"paper", "current"}, 0, "0000000001"},
		{[]string{"paper", "convert", "--code", "35060126", "--no", "3", "--paper-code", "35062601", "--paper-no", "5"}, exitConflict, "空白作废"},
		{[]string{"paper", "blank-void", "--paper-code", "35062601", "--from", "1", "--to", "4", "--reason", "走纸"}, 0, "共 4 张"},
		{[]string{"paper", "convert", "--busno", "TJ202611250100", "--paper-code", "35062601", "--paper-no", "5"}, exitInvalid, "没有指定打印机"},
		{[]string{"paper", "current"}, 0, "0000000005"},
		{[]string{"printer", "default", "pdf:" + filepath.Join(d, "prints")}, 0, "默认打印机"},
		{[]string{"paper", "convert", "--busno", "TJ202611250100", "--paper-code", "35062601", "--paper-no", "5"}, 0, "打印任务"},
		{[]string{"paper", "reprint", "--busno", "TJ202611250100", "--paper-no", "6", "--reason", "卡纸"}, 0, "0000000006"},
		{[]string{"paper", "show", "--paper-code", "35062601", "--paper-no", "5"}, 0, "已作废"},
		{[]string{"paper", "void", "--paper-code", "35062601", "--paper-no", "6", "--reason", "患者不要"}, 0, "仍然有效"},
		{[]string{"paper", "intake", "--code", "35062601", "--from", "900", "--to", "1200"}, exitConflict, "重叠"},
		{[]string{"paper", "intake", "--code", "35062601", "--from", "2001", "--to", "3000"}, 0, "共 1000 张"},
		{[]string{"list", "--state", "red"}, 0, "共 2 张"},
		{[]string{"list", "--payer", "海湾"}, 0, "厦门海湾科技有限公司"},
		{[]string{"list", "--from", "2026/11/01"}, exitInvalid, "yyyy-MM-dd"},
		{[]string{"stock"}, 0, "35060226"},
		{[]string{"status"}, 0, "待上传：6 张"},
		{[]string{"issue", "-f", "../../examples/nope.json"}, exitInvalid, "无法读取"},
		{[]string{"issue", "--kind", "dental", "-f", "../../examples/exam.json"}, exitInvalid, "未知的票据种类"},
		{[]string{"frobnicate"}, exitUsage, "未知命令"},
		{[]string{"verify"}, 0, "共 6 张"},
		{[]string{"sync", "once"}, exitInvalid, "单机或演示"},
		{[]string{"server", "set", "--url", "ftp://x"}, exitInvalid, "https://"},
		{[]string{"server", "set", "--url", "http://10.0.0.1:8443"}, exitInvalid, "必须以 https:// 开头"},
		{[]string{"backup", "--to", filepath.Join(d, "backup.db")}, 0, "已备份"},
		{[]string{"backup", "--to", filepath.Join(d, "backup.db")}, exitInvalid, "已存在"},
	}
	for _, tt := range tests {
		out, errOut, code := ebill(t, append([]string{"--data", d}, tt.args...)...)
		if code != tt.code || !strings.Contains(out+errOut, tt.want) {
			t.Errorf("ebill %s → %d, want %d with %q\nstdout: %s\nstderr: %s", strings.Join(tt.args, " "), code, tt.code, tt.want, out, errOut)
		}
	}
	// A mistyped data directory is an error and creates nothing.
	missing := filepath.Join(t.TempDir(), "nope")
	if _, errOut, code := ebill(t, "--data", missing, "status"); code != exitConflict || !strings.Contains(errOut, "ebill init") {
		t.Fatalf("missing data dir: %d %s", code, errOut)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatal("status created the data directory")
	}
}

func TestBadSettlementJSONError(t *testing.T) {
	d := t.TempDir()
	ebill(t, "--data", d, "init", "--place", "P01", "--demo")
	bad := filepath.Join(t.TempDir(), "bad.json")
	raw, _ := os.ReadFile("../../examples/outpatient.json")
	os.WriteFile(bad, bytes.Replace(raw, []byte(`"totalAmt": 123.45`), []byte(`"totalAmt": 123.456`), 1), 0o644)
	out, errOut, code := ebill(t, "--data", d, "--json", "issue", "-f", bad)
	var res struct {
		Error struct{ Code, Field, Message string }
	}
	json.Unmarshal([]byte(out), &res)
	if code != exitInvalid || res.Error.Field != "totalAmt" || !strings.Contains(errOut, "两位小数") {
		t.Fatalf("%d %+v %s", code, res, errOut)
	}
	out, _, _ = ebill(t, "--data", d, "--json", "status")
	if !strings.Contains(out, `"bills": 0`) {
		t.Fatalf("bad input changed the store:\n%s", out)
	}
}

// TestGBKSettlementRefused: a settlement file saved in GBK (a Chinese
// Windows editor's default) is refused with a clear message, and nothing
// is stored — before, its text became U+FFFD in a signed bill.
func TestGBKSettlementRefused(t *testing.T) {
	d := t.TempDir()
	ebill(t, "--data", d, "init", "--place", "P01", "--demo")
	gbk := filepath.Join(t.TempDir(), "gbk.json")
	raw, _ := os.ReadFile("../../examples/outpatient.json")
	os.WriteFile(gbk, bytes.Replace(raw, []byte("张三"), []byte("\xd5\xc5\xc8\xfd"), 1), 0o644) // 张三 in GBK
	out, errOut, code := ebill(t, "--data", d, "--json", "issue", "-f", gbk)
	var res struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal([]byte(out), &res)
	if code != exitInvalid || res.Error.Code != "encoding" || !strings.Contains(errOut, "UTF-8") {
		t.Fatalf("%d %+v %s", code, res, errOut)
	}
	out, _, _ = ebill(t, "--data", d, "--json", "status")
	if !strings.Contains(out, `"bills": 0`) {
		t.Fatalf("a GBK file changed the store:\n%s", out)
	}
}

// TestResidentIDTypoIssues: a wrong check digit does not block the bill;
// the command says so, and the number is kept as sent.
func TestResidentIDTypoIssues(t *testing.T) {
	d := t.TempDir()
	ebill(t, "--data", d, "init", "--place", "P01", "--demo")
	f := filepath.Join(t.TempDir(), "typo.json")
	raw, _ := os.ReadFile("../../examples/outpatient.json")
	var m map[string]any
	json.Unmarshal(raw, &m)
	m["idCardNo"] = "350203198503122016" // the check digit should be 5
	raw, _ = json.Marshal(m)
	os.WriteFile(f, raw, 0o644)
	out, errOut, code := ebill(t, "--data", d, "--json", "issue", "-f", f)
	var res struct{ Warnings []string }
	json.Unmarshal([]byte(out), &res)
	if code != 0 || len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "校验位") {
		t.Fatalf("%d %s %s", code, out, errOut)
	}
}

// TestBinary builds the real command and runs the issue's lines with it.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "ebill")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	d := filepath.Join(t.TempDir(), "D")
	steps := [][]string{
		{"--data", d, "init", "--place", "P01", "--demo"},
		{"--data", d, "--json", "issue", "-f", "../../examples/outpatient.json"},
		{"--data", d, "--json", "issue", "-f", "../../examples/outpatient.json"},
		{"--data", d, "verify"},
	}
	var outs []string
	for _, s := range steps {
		out, err := exec.Command(bin, s...).CombinedOutput()
		if err != nil {
			t.Fatalf("ebill %v: %v\n%s", s, err, out)
		}
		outs = append(outs, string(out))
	}
	if outs[1] != outs[2] && !strings.Contains(outs[2], `"duplicate": true`) {
		t.Fatalf("second issue differs:\n%s\n%s", outs[1], outs[2])
	}
	if !strings.Contains(outs[3], "校验通过") {
		t.Fatalf("verify: %s", outs[3])
	}
}

// TestDamagedStoreRefused (issue 18 #7): a station database whose pages
// were damaged is refused when any program opens it — no issue, no sync,
// verify says so — with the way to restore, and the exit code of a
// failed check.
func TestDamagedStoreRefused(t *testing.T) {
	d := t.TempDir()
	if _, errOut, code := ebill(t, "--data", d, "init", "--place", "P01", "--demo"); code != 0 {
		t.Fatalf("init: %d %s", code, errOut)
	}
	set, err := os.ReadFile("../../examples/outpatient.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		f := filepath.Join(t.TempDir(), "s.json")
		os.WriteFile(f, bytes.Replace(set, []byte("MZ202611250001"), []byte("MZ-D-"+strconv.Itoa(i)), 1), 0o600)
		if _, errOut, code := ebill(t, "--data", d, "issue", "-f", f); code != 0 {
			t.Fatalf("issue %d: %d %s", i, code, errOut)
		}
	}
	db := filepath.Join(d, "station.db")
	fi, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	// Scribble over a page in the middle of the file, as a failing disk does.
	f, err := os.OpenFile(db, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bytes.Repeat([]byte{0xA5}, 4096), (fi.Size()/4096/2)*4096)
	f.Close()
	for _, args := range [][]string{{"issue", "-f", "../../examples/outpatient.json"}, {"verify"}, {"status"}} {
		_, errOut, code := ebill(t, append([]string{"--data", d}, args...)...)
		if code != 6 || !strings.Contains(errOut, "已损坏") || !strings.Contains(errOut, "恢复") {
			t.Fatalf("%v on a damaged file: exit %d, %s", args, code, errOut)
		}
	}
}
