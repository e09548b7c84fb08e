package replicast

// #include "replicast.h"
import "C"

import "unsafe"

// fillCall is a query-then-fill C call: it writes into buf (n bytes), sets *needed to the size
// the output needs (NUL included), and returns BUFFER_TOO_SMALL when n is short.
type fillCall func(buf *C.char, n C.size_t, needed *C.size_t, cerr **C.replicast_error) C.replicast_status

// fillText runs call with a buffer of size bytes and, when the library asks for more, again
// with the size it asked for (the C functions change nothing when the buffer is short). The
// result is the text without its NUL.
func fillText(size int, call fillCall) ([]byte, error) {
	buf := make([]byte, size)
	for {
		var needed C.size_t
		var cerr *C.replicast_error
		status := call((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &needed, &cerr)
		if status == C.REPLICAST_STATUS_BUFFER_TOO_SMALL {
			C.replicast_error_free(cerr)
			buf = make([]byte, int(needed))
			continue
		}
		if err := errorFrom(status, cerr); err != nil {
			return nil, err
		}
		return buf[:needed-1], nil
	}
}
