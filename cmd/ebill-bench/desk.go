package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2/test"
	"golang.org/x/crypto/bcrypt"

	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/ui"
)

// benchDesk measures the desktop: F9 to bill saved and resident memory
// after issuing n bills through the issue screen (in process, on Fyne's
// headless driver), and the cold start of the real program to its sign-in
// window under X (Xvfb when no display is set), against the targets.
func benchDesk(n int, deskBin string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ebill-desk-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := localstore.Open(ctx, filepath.Join(dir, "station"))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Init(ctx, localstore.InitParams{PlaceCode: "P01", PlaceName: "门诊一号窗口", UnitName: "演示医院", UnitCreditCode: "12350205MB0123456X"}); err != nil {
		return err
	}
	if err := st.SetupDemo(ctx, 26); err != nil {
		return err
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("ebill1234"), bcrypt.MinCost)
	if err := st.ApplyMasterData(ctx, localstore.MasterData{Version: 1,
		ChargeItems: []localstore.ChargeItem{{Code: "110200001", Name: "普通门诊诊察费", Pinyin: "ptmzzcf", CategoryCode: "02", Unit: "次", Price: 200000},
			{Code: "XJ01", Name: "青霉素片", Pinyin: "qmsp", CategoryCode: "09", Unit: "片", Price: 4583}},
		Users: []localstore.OfflineUser{{Login: "lin", Name: "林小燕", PasswordHash: string(hash), Roles: []string{"cashier"}}}}); err != nil {
		return err
	}
	font, err := printing.DefaultFont()
	if err != nil {
		return err
	}
	a := test.NewApp()
	defer a.Quit()
	env := &ui.Env{Store: st, Font: font, Bridge: ui.NewBridge(ctx), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DataDir: dir}
	sess, err := ui.SignIn(ctx, env, "lin", "ebill1234")
	if err != nil {
		return err
	}
	win := test.NewWindow(nil)
	desk := ui.NewDesk(env, win, sess)
	desk.Install()
	var items []localstore.ChargeItem
	for _, q := range []string{"ptmzzcf", "qmsp"} {
		found, err := st.SearchChargeItems(ctx, q, 1)
		if err != nil || len(found) != 1 {
			return fmt.Errorf("catalogue search %s: %v", q, err)
		}
		items = append(items, found[0])
	}
	sc := desk.Issue
	var lat []time.Duration
	rssBefore := rssKB(os.Getpid())
	for i := 0; i < n; i++ {
		sc.Clear()
		sc.Payer.SetText(fmt.Sprintf("患者%04d", i))
		for _, it := range items {
			sc.AddItem(it)
		}
		start := time.Now()
		sc.Submit()
		env.Bridge.Wait()
		lat = append(lat, time.Since(start))
		if sc.Issued == nil {
			return fmt.Errorf("bill %d not issued: %s", i, ui.LastError())
		}
	}
	rssAfter := rssKB(os.Getpid())
	if path := os.Getenv("EBILL_BENCH_HEAP"); path != "" {
		runtime.GC()
		if f, err := os.Create(path); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(float64(len(lat)-1)*q)].Microseconds()) / 1000 }

	fmt.Printf("ebill-desk\n")
	fmt.Printf("%-46s %10s %10s %10s\n", "measure", "p50", "p99", "target")
	fmt.Printf("%-46s %8.1f ms %8.1f ms %10s  %s\n", fmt.Sprintf("F9 to bill saved (%d bills, issue screen)", n), p(.5), p(.99), "≤ 100 ms", verdictOf(p(.99) <= 100))
	fmt.Printf("%-46s %10s %8.0f MB %10s  %s\n", fmt.Sprintf("resident memory after %d bills (in process)", n), fmt.Sprintf("%.0f MB→", float64(rssBefore)/1024),
		float64(rssAfter)/1024, "≤ 200 MB", verdictOf(rssAfter <= 200*1024))
	if deskBin == "" {
		fmt.Println("cold start: skipped (no ebill-desk binary given)")
		return nil
	}
	return coldStart(deskBin, filepath.Join(dir, "station"))
}

// coldStart starts the real program five times and times it to its
// sign-in window (the "started" log line, written when the window is up).
func coldStart(bin, data string) error {
	display := os.Getenv("DISPLAY")
	if display == "" {
		xvfb, err := exec.LookPath("Xvfb")
		if err != nil {
			fmt.Println("cold start: skipped (no DISPLAY and no Xvfb)")
			return nil
		}
		display = ":97"
		x := exec.Command(xvfb, display, "-screen", "0", "1280x800x24")
		if err := x.Start(); err != nil {
			return err
		}
		defer x.Process.Kill()
		time.Sleep(time.Second)
	}
	var times []time.Duration
	var rss int64
	for i := 0; i < 5; i++ {
		cmd := exec.Command(bin, "--data", data)
		cmd.Env = append(os.Environ(), "DISPLAY="+display, "EBILL_DESK_EXIT_AFTER_START=1", "LANG=C.UTF-8")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			return err
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		sc := bufio.NewScanner(stderr)
		var took time.Duration
		for sc.Scan() {
			if strings.Contains(sc.Text(), "ebill-desk started") {
				took = time.Since(start)
				rss = max(rss, rssKB(cmd.Process.Pid))
				break
			}
		}
		go io.Copy(io.Discard, stderr)
		cmd.Wait()
		if took == 0 {
			return fmt.Errorf("ebill-desk did not start")
		}
		times = append(times, took)
	}
	slices.Sort(times)
	fmt.Printf("%-46s %7.2f s %8.2f s %10s  %s\n", "cold start to the sign-in window (5 runs)", times[2].Seconds(), times[4].Seconds(), "≤ 2 s", verdictOf(times[4] <= 2*time.Second))
	fmt.Printf("%-46s %10s %8.0f MB\n", "resident memory of the program at start", "", float64(rss)/1024)
	return nil
}

func verdictOf(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// rssKB reads a process's resident set size from /proc (0 elsewhere).
func rssKB(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			v, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return v
		}
	}
	return 0
}
