package replicast

// #include "replicast.h"
import "C"

import (
	"errors"
	"fmt"
)

// Code is the category of an [Error]: the core's error kinds (1–6, the same numbers in every
// binding) and the conditions of the C boundary (100–102).
type Code uint32

// The codes.
const (
	CodeInvalidInput     Code = 1
	CodeInvalidConfig    Code = 2
	CodeInsufficientData Code = 3
	CodeNotConverged     Code = 4
	CodeNumerical        Code = 5
	CodeSerialization    Code = 6
	CodeNullArgument     Code = 100
	CodeBufferTooSmall   Code = 101
	CodePanic            Code = 102
)

// String is the stable lowercase name of the code ("invalid_config").
func (c Code) String() string {
	return C.GoString(C.replicast_status_name(C.uint32_t(c)))
}

// Error is every error replicast returns, except [ErrClosed]. Compare with the sentinels through
// errors.Is (which compares codes) or read Code through errors.As.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("replicast: %s: %s", e.Code, e.Msg)
}

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, replicast.ErrInvalidConfig) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is, one per code.
var (
	ErrInvalidInput     = &Error{Code: CodeInvalidInput, Msg: "invalid input"}
	ErrInvalidConfig    = &Error{Code: CodeInvalidConfig, Msg: "invalid config"}
	ErrInsufficientData = &Error{Code: CodeInsufficientData, Msg: "insufficient data"}
	ErrNotConverged     = &Error{Code: CodeNotConverged, Msg: "not converged"}
	ErrNumerical        = &Error{Code: CodeNumerical, Msg: "numerical"}
	ErrSerialization    = &Error{Code: CodeSerialization, Msg: "serialization"}
	ErrNullArgument     = &Error{Code: CodeNullArgument, Msg: "null argument"}
	ErrBufferTooSmall   = &Error{Code: CodeBufferTooSmall, Msg: "buffer too small"}
	ErrPanic            = &Error{Code: CodePanic, Msg: "panic"}
)

// ErrClosed is returned by methods of a [Scaler], [State] or [FittedModel] after Close.
var ErrClosed = errors.New("replicast: use of a closed handle")

// errorFrom turns a status and its error handle into an error (nil for OK), freeing the handle.
// The one place C statuses become Go errors.
func errorFrom(status C.replicast_status, cerr *C.replicast_error) error {
	if cerr != nil {
		defer C.replicast_error_free(cerr)
	}
	if status == C.REPLICAST_STATUS_OK {
		return nil
	}
	msg := ""
	if cerr != nil {
		msg = C.GoString(C.replicast_error_message(cerr))
	}
	return &Error{Code: Code(status), Msg: msg}
}
