// Package bill is the domain of medical fiscal e-bills: the bill and its
// lines, money in fen, validation, Chinese capitals, canonical encoding,
// the SM3 hash chain, SM2 signatures, check codes, bill codes and number
// segments. It does no I/O.
package bill

import (
	"errors"
	"fmt"
)

// Error codes carried by *Error. They are stable: the CLI, the GUI and the
// server map them to exit codes, colours and HTTP statuses.
const (
	EInvalid         = "invalid"          // bad input; nothing was changed
	EEncoding        = "encoding"         // text that is not UTF-8 (GBK from older systems); nothing was changed
	EConflict        = "conflict"         // same key, different content
	ENotFound        = "not_found"        // the thing asked for does not exist
	EAlreadyReversed = "already_reversed" // a red bill for this bill exists
	ENoStock         = "no_stock"         // no numbers (e-bill or paper) left
	ELimit           = "limit"            // an offline limit is reached
	ETampered        = "tampered"         // signature, hash or chain broken
	EUnauthorized    = "unauthorized"     // the caller is not who it says (not signed in, session over)
	EForbidden       = "forbidden"        // the caller is known and may not do this
	EUnavailable     = "unavailable"      // the server cannot be reached; try again later
	EInternal        = "internal"         // a fault of ours; details are in the log
	EVersion         = "version"          // the data was written by a newer program; install that version
)

// Error is the one error type of ebill. Message is Chinese and says what
// to do; Field names the offending input field (JSON name) when there is one.
type Error struct {
	Code    string
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf returns an *Error with a formatted Chinese message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EInvalid *Error about one input field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EInternal otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EInternal
}

// ErrorMessage returns the user-facing Chinese message of err. Errors that
// are not *Error are faults of ours: their detail belongs in the log, and the
// user gets a generic message that says what to do.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	if err == nil {
		return ""
	}
	return "系统内部错误，请重试；如仍失败请联系信息科并提供日志。"
}
