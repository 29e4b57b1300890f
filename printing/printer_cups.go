//go:build !windows

package printing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"

	"github.com/ebill/ebill/bill"
)

// On Linux (and other Unix systems) printers are CUPS queues, listed with
// lpstat and printed to with lp. CUPS_SERVER in the environment selects
// another CUPS server, as for the CUPS commands themselves.

func systemPrinters(ctx context.Context) ([]PrinterInfo, error) {
	out, err := runCUPS(ctx, nil, "lpstat", "-e")
	if err != nil {
		if strings.Contains(err.Error(), "No destinations") {
			return nil, nil
		}
		return nil, err
	}
	def := ""
	if d, err := runCUPS(ctx, nil, "lpstat", "-d"); err == nil {
		if _, name, ok := strings.Cut(strings.TrimSpace(d), ": "); ok {
			def = name
		}
	}
	var list []PrinterInfo
	for _, name := range strings.Fields(out) {
		list = append(list, PrinterInfo{Name: name, Kind: "cups", Default: name == def})
	}
	return list, nil
}

func systemPrinter(name string) (Printer, error) {
	return &CUPS{Queue: name}, nil
}

// CUPS prints to a CUPS queue through lp.
type CUPS struct {
	Queue string
}

func (c *CUPS) Name() string { return c.Queue }

var requestID = regexp.MustCompile(`request id is (\S+)`)

// Print sends the document as a PDF at its own paper size with no scaling,
// so that what the layout puts at x mm lands at x mm on the paper.
func (c *CUPS) Print(ctx context.Context, doc *Document, f *Font) (string, error) {
	data, err := PDF(doc, f, PDFOptions{})
	if err != nil {
		return "", err
	}
	out, err := runCUPS(ctx, data, "lp", "-d", c.Queue, "-t", jobTitle(doc.Title),
		"-o", fmt.Sprintf("media=Custom.%gx%gmm", doc.Width, doc.Height),
		"-o", "print-scaling=none", "-o", "fit-to-page=false", "-")
	if err != nil {
		return "", err
	}
	if m := requestID.FindStringSubmatch(out); m != nil {
		return m[1], nil
	}
	return strings.TrimSpace(out), nil
}

func runCUPS(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(cmd.Environ(), "LANG=C")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(err, exec.ErrNotFound) {
		return "", bill.Errorf(bill.EUnavailable, "本机没有安装 CUPS 打印系统（找不到 %s）；请安装 cups，或使用 PDF 打印机。", name)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", bill.Errorf(bill.EUnavailable, "打印系统报错（%s）：%s；请检查打印机是否开机、联网，或联系信息科。", name, msg)
	}
	return stdout.String(), nil
}

// jobTitle keeps the ASCII part of a title (the bill's code and number)
// after "ebill": print queues and the PDF printers behind them mangle
// non-ASCII job names.
func jobTitle(title string) string {
	ascii := strings.Map(func(r rune) rune {
		if r > ' ' && r < 127 {
			return r
		}
		return ' '
	}, title)
	return strings.Join(append([]string{"ebill"}, strings.Fields(ascii)...), "-")
}
