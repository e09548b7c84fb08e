package replicast

// #include <stdlib.h>
// #include "call.h"
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
	ptr *C.replicast_scaler_state
	// call is the C-side argument block of DecideAggregated (see call.h).
	call    *C.replicast_go_call
	cleanup runtime.Cleanup
}

var _ io.Closer = (*State)(nil)

// cMemory is what a State owns on the C side, freed by Close or by the GC cleanup.
type cMemory struct {
	state *C.replicast_scaler_state
	call  *C.replicast_go_call
}

func (m cMemory) free() {
	C.replicast_scaler_state_free(m.state)
	C.free(unsafe.Pointer(m.call))
}

func newState(ptr *C.replicast_scaler_state) *State {
	s := &State{}
	s.adopt(ptr)
	return s
}

// adopt makes s own ptr (and a fresh argument block), freed when s is closed or collected.
func (s *State) adopt(ptr *C.replicast_scaler_state) {
	call := (*C.replicast_go_call)(C.calloc(1, C.sizeof_replicast_go_call))
	if call == nil {
		C.replicast_scaler_state_free(ptr)
		panic("replicast: out of memory")
	}
	s.ptr, s.call = ptr, call
	s.cleanup = runtime.AddCleanup(s, cMemory.free, cMemory{ptr, call})
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
	cMemory{s.ptr, s.call}.free()
	s.ptr, s.call = nil, nil
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
	s.adopt(ptr)
	return nil
}

// bytesPtr is a C view of b (NULL when empty); b must stay alive during the call.
func bytesPtr(b []byte) *C.char {
	if len(b) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer(&b[0]))
}
