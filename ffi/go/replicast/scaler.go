package replicast

// #include "call.h"
import "C"

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"unsafe"
)

// Scaler is a validated spec. It is immutable and safe for concurrent use by many goroutines
// (each deciding with its own [State]); Close it only when no call is running.
type Scaler struct {
	ptr     *C.replicast_scaler
	metrics int
	cleanup runtime.Cleanup
}

var _ io.Closer = (*Scaler)(nil)

// NewScaler validates a spec and builds a scaler. spec is JSON ([]byte, string or
// json.RawMessage: replicast's own format, a Kubernetes HorizontalPodAutoscaler manifest, or the
// seed's threshold settings) or any other value, which is marshalled with encoding/json.
//
// Errors are *Error with CodeInvalidConfig, naming the first invalid field.
func NewScaler(spec any) (*Scaler, error) {
	data, err := specJSON(spec)
	if err != nil {
		return nil, err
	}
	var ptr *C.replicast_scaler
	var cerr *C.replicast_error
	if err := errorFrom(C.replicast_scaler_new(bytesPtr(data), C.size_t(len(data)), &ptr, &cerr), cerr); err != nil {
		return nil, err
	}
	var n C.size_t
	if err := errorFrom(C.replicast_scaler_metric_count(ptr, &n, &cerr), cerr); err != nil {
		C.replicast_scaler_free(ptr)
		return nil, err
	}
	s := &Scaler{ptr: ptr, metrics: int(n)}
	s.cleanup = runtime.AddCleanup(s, func(p *C.replicast_scaler) { C.replicast_scaler_free(p) }, ptr)
	return s, nil
}

// Close frees the scaler; later calls return ErrClosed. Idempotent.
func (s *Scaler) Close() error {
	if s == nil || s.ptr == nil {
		return nil
	}
	s.cleanup.Stop()
	C.replicast_scaler_free(s.ptr)
	s.ptr = nil
	return nil
}

func (s *Scaler) handle() (*C.replicast_scaler, error) {
	if s == nil || s.ptr == nil {
		return nil, ErrClosed
	}
	debugGC()
	return s.ptr, nil
}

// MetricCount is the number of HPA metrics of the spec: the length of the values of one
// workload in [Scaler.DecideAggregated].
func (s *Scaler) MetricCount() int { return s.metrics }

// Decide decides for one workload at in.NowMs, updating state only on success.
//
// Errors are *Error: CodeInvalidInput for unusable observations (NaN or negative values, a
// timestamp before the state's last decision, the wrong number of metric inputs).
func (s *Scaler) Decide(state *State, in DecisionInput) (Decision, error) {
	var d Decision
	input, err := json.Marshal(in)
	if err != nil {
		return d, &Error{Code: CodeInvalidInput, Msg: err.Error()}
	}
	out, err := s.decideJSON(state, input)
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(out, &d); err != nil {
		return d, &Error{Code: CodeSerialization, Msg: err.Error()}
	}
	return d, nil
}

// DecideJSON is Decide with the input and the decision as JSON (the Rust serde forms).
func (s *Scaler) DecideJSON(state *State, input []byte) ([]byte, error) {
	return s.decideJSON(state, input)
}

func (s *Scaler) decideJSON(state *State, input []byte) ([]byte, error) {
	sp, err := s.handle()
	if err != nil {
		return nil, err
	}
	stp, err := state.handle()
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(s)
	defer runtime.KeepAlive(state)
	// a short buffer leaves the state unchanged, so deciding again with a larger one is safe
	return fillText(4096, func(buf *C.char, n C.size_t, needed *C.size_t, cerr **C.replicast_error) C.replicast_status {
		return C.replicast_scaler_decide_json(sp, stp, bytesPtr(input), C.size_t(len(input)), buf, n, needed, cerr)
	})
}

// BatchResult is one workload's outcome in [Scaler.DecideBatch]: a decision or an error.
type BatchResult struct {
	Decision Decision
	Err      error
}

// DecideBatch decides for many workloads in one call: states[i] with inputs[i]. A failed
// workload keeps its state and reports its error in its result; the call itself fails only
// for bad arguments (different lengths, a state listed twice, a closed handle).
func (s *Scaler) DecideBatch(states []*State, inputs []DecisionInput) ([]BatchResult, error) {
	if len(states) != len(inputs) {
		return nil, &Error{Code: CodeInvalidInput, Msg: fmt.Sprintf("DecideBatch needs one state per input, got %d states and %d inputs", len(states), len(inputs))}
	}
	sp, err := s.handle()
	if err != nil {
		return nil, err
	}
	ptrs, err := statePtrs(states)
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(s)
	defer runtime.KeepAlive(states)
	input, err := json.Marshal(inputs)
	if err != nil {
		return nil, &Error{Code: CodeInvalidInput, Msg: err.Error()}
	}
	buf, err := fillText(2048*len(states)+64, func(out *C.char, n C.size_t, needed *C.size_t, cerr **C.replicast_error) C.replicast_status {
		return C.replicast_scaler_decide_batch_json(sp, statesArg(ptrs), C.size_t(len(ptrs)),
			bytesPtr(input), C.size_t(len(input)), out, n, needed, cerr)
	})
	if err != nil {
		return nil, err
	}
	var raw []struct {
		Decision *Decision `json:"decision"`
		Error    *struct {
			Code    Code   `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(buf, &raw); err != nil {
		return nil, &Error{Code: CodeSerialization, Msg: err.Error()}
	}
	results := make([]BatchResult, len(raw))
	for i, r := range raw {
		if r.Decision != nil {
			results[i].Decision = *r.Decision
		} else if r.Error != nil {
			results[i].Err = &Error{Code: r.Error.Code, Msg: r.Error.Message}
		}
	}
	return results, nil
}

func statePtrs(states []*State) ([]*C.replicast_scaler_state, error) {
	ptrs := make([]*C.replicast_scaler_state, len(states))
	for i, st := range states {
		if st == nil || st.ptr == nil {
			return nil, fmt.Errorf("states[%d]: %w", i, ErrClosed)
		}
		ptrs[i] = st.ptr
	}
	debugGC()
	return ptrs, nil
}

func statesArg(ptrs []*C.replicast_scaler_state) **C.replicast_scaler_state {
	if len(ptrs) == 0 {
		return nil
	}
	return &ptrs[0]
}

// Health is the caller's health check in an [AggregatedInput].
type Health uint32

// The health values.
const (
	HealthUnknown   Health = C.REPLICAST_HEALTH_UNKNOWN
	HealthHealthy   Health = C.REPLICAST_HEALTH_HEALTHY
	HealthUnhealthy Health = C.REPLICAST_HEALTH_UNHEALTHY
)

// AggregatedInput is one workload's observation in the fast, JSON-free form: its values (one
// per HPA metric, in spec order) are passed beside it. Equivalent to a DecisionInput whose
// metrics are all Aggregated(values[i], ReadyReplicas).
type AggregatedInput struct {
	NowMs           int64
	CurrentReplicas uint32
	ReadyReplicas   uint32
	// StatusReplicas is used when HasStatusReplicas (otherwise CurrentReplicas).
	StatusReplicas    uint32
	HasStatusReplicas bool
	Health            Health
}

// Summary is the fixed-size summary of a decision.
type Summary struct {
	Replicas        uint32
	CurrentReplicas uint32
	Rescale         bool
	ScalingActive   bool
	ScalingLimited  bool
	Steps           uint32
	LastStage       Stage
	Errors          uint32
}

// Stage is the pipeline stage that changed the value last (StageNone if none).
type Stage uint32

// The stages.
const (
	StageNone           Stage = C.REPLICAST_STAGE_NONE
	StageBounds         Stage = C.REPLICAST_STAGE_BOUNDS
	StageCombine        Stage = C.REPLICAST_STAGE_COMBINE
	StageMetricFailure  Stage = C.REPLICAST_STAGE_METRIC_FAILURE
	StageStabilization  Stage = C.REPLICAST_STAGE_STABILIZATION
	StageRateLimit      Stage = C.REPLICAST_STAGE_RATE_LIMIT
	StageMinMax         Stage = C.REPLICAST_STAGE_MIN_MAX
	StageCooldown       Stage = C.REPLICAST_STAGE_COOLDOWN
	StageScaleFromZero  Stage = C.REPLICAST_STAGE_SCALE_FROM_ZERO
	StageActivation     Stage = C.REPLICAST_STAGE_ACTIVATION
	StagePanic          Stage = C.REPLICAST_STAGE_PANIC
	StageScaleDownDelay Stage = C.REPLICAST_STAGE_SCALE_DOWN_DELAY
	StageScaleToZero    Stage = C.REPLICAST_STAGE_SCALE_TO_ZERO
)

func (in *AggregatedInput) toC() C.replicast_aggregated_input {
	return C.replicast_aggregated_input{
		now_ms:              C.int64_t(in.NowMs),
		current_replicas:    C.uint32_t(in.CurrentReplicas),
		ready_replicas:      C.uint32_t(in.ReadyReplicas),
		status_replicas:     C.uint32_t(in.StatusReplicas),
		has_status_replicas: C.bool(in.HasStatusReplicas),
		health:              C.uint32_t(in.Health),
	}
}

func summaryFrom(c *C.replicast_decision_summary) Summary {
	return Summary{
		Replicas:        uint32(c.replicas),
		CurrentReplicas: uint32(c.current_replicas),
		Rescale:         bool(c.rescale),
		ScalingActive:   bool(c.scaling_active),
		ScalingLimited:  bool(c.scaling_limited),
		Steps:           uint32(c.n_steps),
		LastStage:       Stage(c.last_stage),
		Errors:          uint32(c.n_errors),
	}
}

func floatsPtr(v []float64) *C.double {
	if len(v) == 0 {
		return nil
	}
	return (*C.double)(unsafe.Pointer(&v[0]))
}

// DecideAggregated decides for one workload from aggregated values (MetricCount of them),
// without JSON; state is updated only on success.
func (s *Scaler) DecideAggregated(state *State, in AggregatedInput, values []float64) (Summary, error) {
	sp, err := s.handle()
	if err != nil {
		return Summary{}, err
	}
	stp, err := state.handle()
	if err != nil {
		return Summary{}, err
	}
	call := state.call
	call.input = in.toC()
	call.err = nil
	status := C.replicast_scaler_decide_aggregated(sp, stp, &call.input, floatsPtr(values), C.size_t(len(values)), &call.out, &call.err)
	runtime.KeepAlive(s)
	runtime.KeepAlive(state)
	runtime.KeepAlive(values)
	if err := errorFrom(status, call.err); err != nil {
		return Summary{}, err
	}
	return summaryFrom(&call.out), nil
}

// AggregatedBatch holds the C-side arrays of [Scaler.DecideAggregatedBatch]; reuse one across
// calls to avoid allocating them each time. The zero value is ready to use. Not safe for
// concurrent use.
type AggregatedBatch struct {
	ptrs     []*C.replicast_scaler_state
	inputs   []C.replicast_aggregated_input
	out      []C.replicast_decision_summary
	statuses []C.uint32_t
}

// DecideAggregatedBatch decides for many workloads in one C call: states[i] with inputs[i] and
// values[i*m:(i+1)*m], m = MetricCount. Summaries go to out[i] (len(out) must be len(states)).
// errs is nil when every workload succeeded; otherwise errs[i] is non-nil for each failed one,
// whose state and out[i] are unchanged. err reports bad arguments, before any state changes.
func (s *Scaler) DecideAggregatedBatch(b *AggregatedBatch, states []*State, inputs []AggregatedInput, values []float64, out []Summary) (errs []error, err error) {
	n := len(states)
	if len(inputs) != n || len(out) != n {
		return nil, &Error{Code: CodeInvalidInput, Msg: fmt.Sprintf("DecideAggregatedBatch needs as many inputs and outputs as states (%d), got %d and %d", n, len(inputs), len(out))}
	}
	sp, err := s.handle()
	if err != nil {
		return nil, err
	}
	if b == nil {
		b = &AggregatedBatch{}
	}
	b.grow(n)
	for i, st := range states {
		if st == nil || st.ptr == nil {
			return nil, fmt.Errorf("states[%d]: %w", i, ErrClosed)
		}
		b.ptrs[i] = st.ptr
		b.inputs[i] = inputs[i].toC()
	}
	var failed C.size_t
	var cerr *C.replicast_error
	var inPtr *C.replicast_aggregated_input
	var outPtr *C.replicast_decision_summary
	var statusPtr *C.uint32_t
	if n > 0 {
		inPtr, outPtr, statusPtr = &b.inputs[0], &b.out[0], &b.statuses[0]
	}
	status := C.replicast_scaler_decide_aggregated_batch(sp, statesArg(b.ptrs[:n]), inPtr, C.size_t(n),
		floatsPtr(values), C.size_t(len(values)), outPtr, statusPtr, &failed, &cerr)
	runtime.KeepAlive(s)
	runtime.KeepAlive(states)
	runtime.KeepAlive(values)
	if err := errorFrom(status, cerr); err != nil {
		return nil, err
	}
	for i := range n {
		if b.statuses[i] == C.REPLICAST_STATUS_OK {
			out[i] = summaryFrom(&b.out[i])
		}
	}
	if failed == 0 {
		return nil, nil
	}
	errs = make([]error, n)
	m := s.metrics
	for i := range n {
		if b.statuses[i] != C.REPLICAST_STATUS_OK {
			// Deciding the failed workload alone gives the message (its state is unchanged, and
			// the same input fails the same way).
			_, e := s.DecideAggregated(states[i], inputs[i], values[i*m:(i+1)*m])
			if e == nil {
				e = &Error{Code: Code(b.statuses[i]), Msg: fmt.Sprintf("workload %d failed", i)}
			}
			errs[i] = e
		}
	}
	return errs, nil
}

func (b *AggregatedBatch) grow(n int) {
	if cap(b.ptrs) < n {
		b.ptrs = make([]*C.replicast_scaler_state, n)
		b.inputs = make([]C.replicast_aggregated_input, n)
		b.out = make([]C.replicast_decision_summary, n)
		b.statuses = make([]C.uint32_t, n)
	}
	b.ptrs, b.inputs, b.out, b.statuses = b.ptrs[:n], b.inputs[:n], b.out[:n], b.statuses[:n]
}
