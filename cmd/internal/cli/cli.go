// Package cli is what ebill and ebill-server share on the command line:
// Chinese usage and error output, --json output, and one set of exit codes
// so that scripts can tell failures apart the same way for both programs.
package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/ebill/ebill/bill"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitInternal = 1
	ExitUsage    = 2
	ExitInvalid  = 3 // bad input; nothing changed
	ExitConflict = 4 // conflict, already reversed, not found
	ExitBlocked  = 5 // no stock, offline limit
	ExitTampered = 6 // a signature, hash or chain check failed
	ExitDenied   = 7 // not authorised, or the server cannot be reached
	ExitVersion  = 8 // the database was written by a newer version
)

// ErrUsage marks a command-line mistake whose message was already printed.
var ErrUsage = errors.New("usage")

// Reported wraps an error whose outcome the command already printed as
// JSON: Finish still sets the exit code and writes the message to stderr.
type Reported struct{ Err error }

func (r Reported) Error() string { return r.Err.Error() }
func (r Reported) Unwrap() error { return r.Err }

// Out is a command's output: human (Chinese) or JSON, and its log.
type Out struct {
	Prog   string // program name, for usage lines
	JSON   bool
	Stdout io.Writer
	Stderr io.Writer
	Log    *slog.Logger
}

// Printf writes human output.
func (o *Out) Printf(format string, args ...any) { fmt.Fprintf(o.Stdout, format, args...) }

// PrintJSON writes v as indented JSON.
func (o *Out) PrintJSON(v any) {
	enc := json.NewEncoder(o.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// Report prints v as JSON, or the Chinese line.
func (o *Out) Report(v any, format string, args ...any) error {
	if o.JSON {
		o.PrintJSON(v)
	} else {
		o.Printf(format, args...)
	}
	return nil
}

// Finish prints err the way users and scripts need it and returns the
// exit code. Faults of ours keep their detail, in the log and on stderr.
func (o *Out) Finish(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, ErrUsage) {
		return ExitUsage
	}
	code := bill.ErrorCode(err)
	msg := bill.ErrorMessage(err)
	if code == bill.EInternal {
		o.Log.Error("command failed", "err", err)
		msg += "（详情：" + err.Error() + "）"
	}
	var already Reported
	if o.JSON && !errors.As(err, &already) {
		var e *bill.Error
		field := ""
		if errors.As(err, &e) {
			field = e.Field
		}
		o.PrintJSON(map[string]any{"error": map[string]string{"code": code, "field": field, "message": msg}})
	}
	fmt.Fprintln(o.Stderr, "错误："+msg)
	return ExitCode(code)
}

// ExitCode maps an error code to the exit code.
func ExitCode(code string) int {
	switch code {
	case "":
		return ExitOK
	case bill.EInvalid, bill.EEncoding:
		return ExitInvalid
	case bill.EConflict, bill.EAlreadyReversed, bill.ENotFound:
		return ExitConflict
	case bill.ENoStock, bill.ELimit:
		return ExitBlocked
	case bill.ETampered:
		return ExitTampered
	case bill.EUnauthorized, bill.EForbidden, bill.EUnavailable:
		return ExitDenied
	case bill.EVersion:
		return ExitVersion
	}
	return ExitInternal
}

// Flags makes a subcommand's flag set whose usage and errors go to stderr
// in Chinese.
func (o *Out) Flags(name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(o.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(o.Stderr, "用法：%s %s %s\n\n参数：\n", o.Prog, name, usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses a subcommand's flags. With positional, one leading argument
// may come before the flags (`point add P01 --name …`) and is returned;
// stray arguments are a usage error.
func (o *Out) Parse(fs *flag.FlagSet, args []string, positional bool) (string, error) {
	var pos string
	if positional && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pos, args = args[0], args[1:]
	}
	out := fs.Output()
	fs.SetOutput(io.Discard) // the flag package's errors are English
	err := fs.Parse(args)
	fs.SetOutput(out)
	if err != nil {
		if ferr := flagError(fs); ferr != nil {
			return "", ferr // a number typed wrong: said in Chinese, exit code "invalid"
		}
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(o.Stderr, "参数错误：%s\n", chineseFlagError(err))
		}
		fs.Usage()
		return "", ErrUsage
	}
	if positional && pos == "" && fs.NArg() == 1 {
		return fs.Arg(0), nil
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(o.Stderr, "多余的参数：%s\n", strings.Join(fs.Args(), " "))
		fs.Usage()
		return "", ErrUsage
	}
	if positional && pos == "" {
		fs.Usage()
		return "", ErrUsage
	}
	return pos, nil
}

// chineseFlagError says the flag package's usual errors in Chinese.
func chineseFlagError(err error) string {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "flag provided but not defined: "):
		return "没有参数 " + strings.TrimPrefix(msg, "flag provided but not defined: ")
	case strings.HasPrefix(msg, "flag needs an argument: "):
		return "参数 " + strings.TrimPrefix(msg, "flag needs an argument: ") + " 需要一个值"
	}
	return msg
}

// Required reports missing required flags (name, value pairs) as one error.
func Required(pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i+1]) == "" {
			missing = append(missing, "--"+pairs[i])
		}
	}
	if len(missing) > 0 {
		return bill.Errorf(bill.EInvalid, "缺少参数 %s", strings.Join(missing, "、"))
	}
	return nil
}
