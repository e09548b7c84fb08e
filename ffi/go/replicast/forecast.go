package replicast

// #include "replicast.h"
import "C"

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
)

// Forecast is the forecast for steps 1..h after a model's last observation: Point[i] is the
// forecast i+1 steps ahead, and Intervals, when a level was asked for, the central prediction
// interval at that level. Its JSON form is the Rust core's.
type Forecast struct {
	Point     []float64  `json:"point"`
	Intervals *Intervals `json:"intervals"`
}

// Intervals is a central prediction interval: Lower[i] <= Point[i] <= Upper[i], covering the
// future value with probability Level under the model's error distribution.
type Intervals struct {
	Level float64   `json:"level"`
	Lower []float64 `json:"lower"`
	Upper []float64 `json:"upper"`
}

// FittedModel is a forecasting model fitted to a series (seasonal naive, ETS or auto-selected).
// It forecasts the steps after its last observation with [FittedModel.Predict] and absorbs new
// observations one at a time with [FittedModel.Update], without refitting. Persist it with
// MarshalJSON (the zero FittedModel is usable as the target of UnmarshalJSON).
//
// It is not safe for concurrent use with Update; concurrent Predict, NObs and MarshalJSON calls
// are fine while no Update runs. It holds C memory: Close it when done.
type FittedModel struct {
	ptr     *C.replicast_fitted_model
	cleanup runtime.Cleanup
}

var (
	_ io.Closer        = (*FittedModel)(nil)
	_ json.Marshaler   = (*FittedModel)(nil)
	_ json.Unmarshaler = (*FittedModel)(nil)
)

func (m *FittedModel) attach(ptr *C.replicast_fitted_model) {
	m.ptr = ptr
	m.cleanup = runtime.AddCleanup(m, func(p *C.replicast_fitted_model) { C.replicast_fitted_model_free(p) }, ptr)
}

// FitModel fits the model described by spec to the series y (oldest first, one value per step,
// every value finite). spec is a ModelSpec as JSON ([]byte, string or json.RawMessage:
// {"kind": "seasonal_naive", "period": 24}, {"kind": "ets", "period": 24} or
// {"kind": "auto", "step_s": 60}; see docs/forecasting.md) or any other value, which is
// marshalled with encoding/json.
//
// Errors are *Error: CodeInvalidConfig for a malformed or invalid spec, CodeInvalidInput for an
// empty series or a NaN or infinite value (naming its index), CodeInsufficientData when y is
// too short for the model, CodeNumerical if estimation breaks down.
func FitModel(spec any, y []float64) (*FittedModel, error) {
	data, err := specJSON(spec)
	if err != nil {
		return nil, err
	}
	var ptr *C.replicast_fitted_model
	var cerr *C.replicast_error
	status := C.replicast_model_fit(bytesPtr(data), C.size_t(len(data)), floatsPtr(y), C.size_t(len(y)), &ptr, &cerr)
	runtime.KeepAlive(data)
	runtime.KeepAlive(y)
	if err := errorFrom(status, cerr); err != nil {
		return nil, err
	}
	m := &FittedModel{}
	m.attach(ptr)
	return m, nil
}

// specJSON is spec as JSON bytes (see NewScaler and FitModel).
func specJSON(spec any) ([]byte, error) {
	switch v := spec.(type) {
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	case json.RawMessage:
		return v, nil
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return nil, &Error{Code: CodeInvalidConfig, Msg: fmt.Sprintf("spec cannot be marshalled to JSON: %v", err)}
		}
		return data, nil
	}
}

// handle is the C pointer, or ErrClosed.
func (m *FittedModel) handle() (*C.replicast_fitted_model, error) {
	if m == nil || m.ptr == nil {
		return nil, ErrClosed
	}
	debugGC()
	return m.ptr, nil
}

// Close frees the model; later calls return ErrClosed. Idempotent.
func (m *FittedModel) Close() error {
	if m == nil || m.ptr == nil {
		return nil
	}
	m.cleanup.Stop()
	C.replicast_fitted_model_free(m.ptr)
	m.ptr = nil
	return nil
}

// Predict forecasts steps 1..h after the last observation. With level 0 there is no interval
// (Forecast.Intervals is nil); otherwise level must be in (0, 1), e.g. 0.9 for a 90 % interval.
//
// Errors are *Error: CodeInvalidInput when h < 1 or level is neither 0 nor in (0, 1),
// CodeInsufficientData when the model declines to forecast (an auto model after every candidate
// did badly), CodeNumerical if a forecast is not finite.
func (m *FittedModel) Predict(h int, level float64) (Forecast, error) {
	ptr, err := m.handle()
	if err != nil {
		return Forecast{}, err
	}
	defer runtime.KeepAlive(m)
	if h < 0 {
		return Forecast{}, &Error{Code: CodeInvalidInput, Msg: fmt.Sprintf("horizon must be at least 1, got %d", h)}
	}
	point := make([]float64, h)
	var lower, upper []float64
	if level != 0 {
		lower, upper = make([]float64, h), make([]float64, h)
	}
	var cerr *C.replicast_error
	status := C.replicast_fitted_model_predict(ptr, C.size_t(h), C.double(level),
		floatsPtr(point), floatsPtr(lower), floatsPtr(upper), C.size_t(h), &cerr)
	if err := errorFrom(status, cerr); err != nil {
		return Forecast{}, err
	}
	fc := Forecast{Point: point}
	if level != 0 {
		fc.Intervals = &Intervals{Level: level, Lower: lower, Upper: upper}
	}
	return fc, nil
}

// Update absorbs y, the observation one step after the last one, without refitting. A NaN or
// infinite y is a *Error with CodeInvalidInput, and leaves the model unchanged.
func (m *FittedModel) Update(y float64) error {
	ptr, err := m.handle()
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(m)
	var cerr *C.replicast_error
	return errorFrom(C.replicast_fitted_model_update(ptr, C.double(y), &cerr), cerr)
}

// NObs is the number of observations the model has absorbed (fit plus updates).
func (m *FittedModel) NObs() (int, error) {
	ptr, err := m.handle()
	if err != nil {
		return 0, err
	}
	defer runtime.KeepAlive(m)
	var n C.size_t
	var cerr *C.replicast_error
	if err := errorFrom(C.replicast_fitted_model_n_obs(ptr, &n, &cerr), cerr); err != nil {
		return 0, err
	}
	return int(n), nil
}

// MarshalJSON is the model as compact JSON (the Rust FittedModel form; restore it with
// UnmarshalJSON).
func (m *FittedModel) MarshalJSON() ([]byte, error) {
	ptr, err := m.handle()
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(m)
	return fillText(1024, func(buf *C.char, n C.size_t, needed *C.size_t, cerr **C.replicast_error) C.replicast_status {
		return C.replicast_fitted_model_to_json(ptr, buf, n, needed, cerr)
	})
}

// UnmarshalJSON replaces the model with one restored from MarshalJSON output. Errors are *Error
// with CodeSerialization; the model is unchanged then.
func (m *FittedModel) UnmarshalJSON(data []byte) error {
	var ptr *C.replicast_fitted_model
	var cerr *C.replicast_error
	status := C.replicast_fitted_model_from_json(bytesPtr(data), C.size_t(len(data)), &ptr, &cerr)
	runtime.KeepAlive(data)
	if err := errorFrom(status, cerr); err != nil {
		return err
	}
	_ = m.Close()
	*m = FittedModel{}
	m.attach(ptr)
	return nil
}
