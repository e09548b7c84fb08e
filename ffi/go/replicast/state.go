package replicast

// #include "replicast.h"
import "C"

import (
	"io"
	"runtime"
	"unsafe"
)

// State is one workload's memory between decisions. It is not safe for concurrent use; a
// decision that fails leaves it unchanged. Persist it with MarshalJSON (the zero State is
// usable as the target of UnmarshalJSON).
type State struct {
	ptr     *C.replicast_scaler_state
	cleanup runtime.Cleanup
}

var _ io.Closer = (*State)(nil)

func newState(ptr *C.replicast_scaler_state) *State {
	s := &State{ptr: ptr}
	s.cleanup = runtime.AddCleanup(s, func(p *C.replicast_scaler_state) { C.replicast_scaler_state_free(p) }, ptr)
	return s
}

// NewState is a fresh state, as for a workload never seen before.
func NewState() *State {
	var ptr *C.replicast_scaler_state
	var cerr *C.replicast_error
	if err := errorFrom(C.replicast_scaler_state_new(&ptr, &cerr), cerr); err != nil {
		panic(err) // only on allocation failure or a replicast bug
	}
	return newState(ptr)
}

// handle is the C pointer, or ErrClosed.
func (s *State) handle() (*C.replicast_scaler_state, error) {
	if s == nil || s.ptr == nil {
		return nil, ErrClosed
	}
	debugGC()
	return s.ptr, nil
}

// Close frees the state; later calls return ErrClosed. Idempotent.
func (s *State) Close() error {
	if s == nil || s.ptr == nil {
		return nil
	}
	s.cleanup.Stop()
	C.replicast_scaler_state_free(s.ptr)
	s.ptr = nil
	return nil
}

// MarshalJSON is the state as compact JSON (versioned; restore it with UnmarshalJSON).
func (s *State) MarshalJSON() ([]byte, error) {
	ptr, err := s.handle()
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(s)
	return fillText(1024, func(buf *C.char, n C.size_t, needed *C.size_t, cerr **C.replicast_error) C.replicast_status {
		return C.replicast_scaler_state_to_json(ptr, buf, n, needed, cerr)
	})
}

// UnmarshalJSON replaces the state with one restored from MarshalJSON output.
func (s *State) UnmarshalJSON(data []byte) error {
	var ptr *C.replicast_scaler_state
	var cerr *C.replicast_error
	if err := errorFrom(C.replicast_scaler_state_from_json(bytesPtr(data), C.size_t(len(data)), &ptr, &cerr), cerr); err != nil {
		return err
	}
	_ = s.Close()
	*s = State{ptr: ptr}
	s.cleanup = runtime.AddCleanup(s, func(p *C.replicast_scaler_state) { C.replicast_scaler_state_free(p) }, ptr)
	return nil
}

// bytesPtr is a C view of b (NULL when empty); b must stay alive during the call.
func bytesPtr(b []byte) *C.char {
	if len(b) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer(&b[0]))
}
