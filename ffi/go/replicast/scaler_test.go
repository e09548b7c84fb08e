package replicast

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const cpuSpec = `{"min_replicas": 1, "max_replicas": 10, "hpa": {"metrics": [
  {"type": "resource", "resource": "cpu", "target": {"type": "utilization", "average_utilization": 50}}]}}`

const now = int64(1_700_000_000_000)

func mustScaler(t testing.TB, spec any) *Scaler {
	t.Helper()
	s, err := NewScaler(spec)
	if err != nil {
		t.Fatalf("NewScaler: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestNewScalerErrors(t *testing.T) {
	tests := []struct {
		name string
		spec any
		code Code
		want string
	}{
		{"min above max", `{"min_replicas": 5, "max_replicas": 2}`, CodeInvalidConfig, "min_replicas"},
		{"unknown field", []byte(`{"max_replicas": 2, "bogus": 1}`), CodeInvalidConfig, "bogus"},
		{"not json", "{", CodeInvalidConfig, ""},
		{"empty", "", CodeInvalidConfig, ""},
		{"unmarshallable struct", map[string]any{"f": func() {}}, CodeInvalidConfig, "marshalled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewScaler(tc.spec)
			if s != nil || err == nil {
				t.Fatalf("want an error, got %v, %v", s, err)
			}
			var re *Error
			if !errors.As(err, &re) || re.Code != tc.code {
				t.Fatalf("want code %v, got %v", tc.code, err)
			}
			if !errors.Is(err, ErrInvalidConfig) || errors.Is(err, ErrInvalidInput) {
				t.Fatalf("errors.Is mismatch for %v", err)
			}
			if !strings.Contains(re.Msg, tc.want) {
				t.Fatalf("message %q does not mention %q", re.Msg, tc.want)
			}
		})
	}
}

func TestNewScalerFromStruct(t *testing.T) {
	cpu := map[string]any{"type": "resource", "resource": "cpu",
		"target": map[string]any{"type": "utilization", "average_utilization": 50}}
	spec := map[string]any{"max_replicas": 3, "hpa": map[string]any{"metrics": []any{cpu, cpu}}}
	s := mustScaler(t, spec)
	if s.MetricCount() != 2 {
		t.Fatalf("MetricCount = %d", s.MetricCount())
	}
}

func TestDecide(t *testing.T) {
	s := mustScaler(t, cpuSpec)
	tests := []struct {
		name    string
		value   float64
		nowMs   int64
		want    uint32
		rescale bool
		code    Code
	}{
		{"double the load", 100, now, 4, true, 0},
		{"the 5-minute window keeps the recent high", 50, now + 15_000, 4, true, 0},
		{"out of order", 50, now - 1, 0, false, CodeInvalidInput},
		{"negative", -1, now + 30_000, 0, false, CodeInvalidInput},
	}
	st := NewState()
	defer st.Close()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := s.Decide(st, DecisionInput{NowMs: tc.nowMs, CurrentReplicas: 2,
				Metrics: []MetricInput{Aggregated(tc.value, 2)}})
			if tc.code != 0 {
				if !errors.Is(err, &Error{Code: tc.code}) {
					t.Fatalf("want code %v, got %v", tc.code, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Replicas != tc.want || d.Rescale != tc.rescale {
				t.Fatalf("got %d (rescale %v), want %d (%v)", d.Replicas, d.Rescale, tc.want, tc.rescale)
			}
		})
	}
}

func TestDecideMatchesAggregated(t *testing.T) {
	s := mustScaler(t, cpuSpec)
	a, b := NewState(), NewState()
	defer a.Close()
	defer b.Close()
	for i, v := range []float64{100, 20, 75, 0, 180} {
		ts := now + int64(i)*15_000
		d, err := s.Decide(a, DecisionInput{NowMs: ts, CurrentReplicas: 3, Metrics: []MetricInput{Aggregated(v, 3)}})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := s.DecideAggregated(b, AggregatedInput{NowMs: ts, CurrentReplicas: 3, ReadyReplicas: 3}, []float64{v})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Replicas != d.Replicas || sum.Rescale != d.Rescale || int(sum.Steps) != len(d.Steps) {
			t.Fatalf("step %d: summary %+v vs decision %+v", i, sum, d)
		}
	}
	ja, _ := a.MarshalJSON()
	jb, _ := b.MarshalJSON()
	if string(ja) != string(jb) {
		t.Fatalf("states differ:\n%s\n%s", ja, jb)
	}
}

func TestDecideAggregatedErrors(t *testing.T) {
	s := mustScaler(t, cpuSpec)
	st := NewState()
	defer st.Close()
	in := AggregatedInput{NowMs: now, CurrentReplicas: 2, ReadyReplicas: 2}
	bad := in
	bad.Health = 7
	for name, tc := range map[string]struct {
		in     AggregatedInput
		values []float64
	}{
		"unknown health": {bad, []float64{1}},
		"no values":      {in, nil},
		"two values":     {in, []float64{1, 2}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.DecideAggregated(st, tc.in, tc.values); !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("want invalid input, got %v", err)
			}
		})
	}
}

func TestDecideBatch(t *testing.T) {
	s := mustScaler(t, cpuSpec)
	a, b := NewState(), NewState()
	defer a.Close()
	defer b.Close()
	res, err := s.DecideBatch([]*State{a, b}, []DecisionInput{
		{NowMs: now, CurrentReplicas: 2, Metrics: []MetricInput{Aggregated(100, 2)}},
		{NowMs: now, CurrentReplicas: 2, Metrics: []MetricInput{Aggregated(-1, 2)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[0].Decision.Replicas != 4 {
		t.Fatalf("first: %+v", res[0])
	}
	if !errors.Is(res[1].Err, ErrInvalidInput) {
		t.Fatalf("second: %v", res[1].Err)
	}
	if _, err := s.DecideBatch([]*State{a, a}, make([]DecisionInput, 2)); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("duplicate state: %v", err)
	}
	if _, err := s.DecideBatch([]*State{a}, nil); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("length mismatch: %v", err)
	}
}

func TestDecideAggregatedBatch(t *testing.T) {
	s := mustScaler(t, cpuSpec)
	states := []*State{NewState(), NewState(), NewState()}
	for _, st := range states {
		defer st.Close()
	}
	in := AggregatedInput{NowMs: now, CurrentReplicas: 2, ReadyReplicas: 2}
	out := make([]Summary, 3)
	var b AggregatedBatch
	errs, err := s.DecideAggregatedBatch(&b, states, []AggregatedInput{in, in, in}, []float64{100, -1, 50}, out)
	if err != nil {
		t.Fatal(err)
	}
	if errs == nil || errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], ErrInvalidInput) {
		t.Fatalf("errs = %v", errs)
	}
	if !strings.Contains(errs[1].Error(), "aggregated value") {
		t.Fatalf("message: %v", errs[1])
	}
	if out[0].Replicas != 4 || out[1] != (Summary{}) || out[2].Replicas != 2 {
		t.Fatalf("out = %+v", out)
	}
	if _, err := s.DecideAggregatedBatch(&b, states, []AggregatedInput{in, in, in}, []float64{1, 2}, out); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("wrong values length: %v", err)
	}
}

func TestCloseIsIdempotentAndUseAfterCloseFails(t *testing.T) {
	s, err := NewScaler(cpuSpec)
	if err != nil {
		t.Fatal(err)
	}
	st := NewState()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decide(st, DecisionInput{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("decide on closed scaler: %v", err)
	}
	_ = st.Close()
	_ = st.Close()
	if _, err := st.MarshalJSON(); !errors.Is(err, ErrClosed) {
		t.Fatalf("marshal closed state: %v", err)
	}
	s2 := mustScaler(t, cpuSpec)
	if _, err := s2.DecideAggregated(st, AggregatedInput{}, []float64{1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("decide with closed state: %v", err)
	}
}

func TestStateJSONRoundTrip(t *testing.T) {
	s := mustScaler(t, cpuSpec)
	st := NewState()
	defer st.Close()
	if _, err := s.Decide(st, DecisionInput{NowMs: now, CurrentReplicas: 2, Metrics: []MetricInput{Aggregated(100, 2)}}); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	again, _ := back.MarshalJSON()
	if string(again) != string(data) {
		t.Fatalf("round trip:\n%s\n%s", data, again)
	}
	// Both decide the same next step.
	in := DecisionInput{NowMs: now + 15_000, CurrentReplicas: 4, Metrics: []MetricInput{Aggregated(10, 4)}}
	d1, err1 := s.Decide(st, in)
	d2, err2 := s.Decide(&back, in)
	j1, _ := json.Marshal(d1)
	j2, _ := json.Marshal(d2)
	if err1 != nil || err2 != nil || string(j1) != string(j2) {
		t.Fatalf("restored state decides differently: %v %v\n%+v\n%+v", err1, err2, d1, d2)
	}
	// and through the allocation-free path (a restored state gets its own argument block)
	agg := AggregatedInput{NowMs: now + 30_000, CurrentReplicas: 4, ReadyReplicas: 4}
	s1, err1 := s.DecideAggregated(st, agg, []float64{250})
	s2, err2 := s.DecideAggregated(&back, agg, []float64{250})
	// 250 % of the target wants 20 replicas; the default scale-up policy at most doubles 4
	if err1 != nil || err2 != nil || s1 != s2 || s1.Replicas != 8 || !s1.ScalingLimited {
		t.Fatalf("restored state, aggregated: %v %v\n%+v\n%+v", err1, err2, s1, s2)
	}
	if err := back.UnmarshalJSON([]byte(`{"version": 9}`)); !errors.Is(err, ErrSerialization) {
		t.Fatalf("bad version: %v", err)
	}
}

// TestConcurrentDecide: many goroutines share one scaler, each deciding for its own workloads.
func TestConcurrentDecide(t *testing.T) {
	s := mustScaler(t, cpuSpec)
	const goroutines, workloads, rounds = 16, 8, 20
	want := make([]string, workloads)
	{ // the serial answer
		for w := range workloads {
			st := NewState()
			var last Summary
			for r := range rounds {
				sum, err := s.DecideAggregated(st, AggregatedInput{NowMs: now + int64(r)*15_000, CurrentReplicas: 4, ReadyReplicas: 4}, []float64{float64(20 + 10*w + r)})
				if err != nil {
					t.Fatal(err)
				}
				last = sum
			}
			j, _ := st.MarshalJSON()
			want[w] = fmt.Sprint(last) + string(j)
			st.Close()
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range workloads {
				st := NewState()
				var last Summary
				for r := range rounds {
					in := DecisionInput{NowMs: now + int64(r)*15_000, CurrentReplicas: 4,
						Metrics: []MetricInput{Aggregated(float64(20+10*w+r), 4)}}
					if g%2 == 0 {
						d, err := s.Decide(st, in)
						if err != nil {
							errs <- err
							return
						}
						last = Summary{Replicas: d.Replicas, CurrentReplicas: d.CurrentReplicas, Rescale: d.Rescale}
					} else {
						sum, err := s.DecideAggregated(st, AggregatedInput{NowMs: in.NowMs, CurrentReplicas: 4, ReadyReplicas: 4}, []float64{in.Metrics[0].Value})
						if err != nil {
							errs <- err
							return
						}
						last = sum
					}
				}
				j, _ := st.MarshalJSON()
				st.Close()
				if g%2 == 1 && fmt.Sprint(last)+string(j) != want[w] {
					errs <- fmt.Errorf("goroutine %d workload %d differs from the serial run", g, w)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestVersion(t *testing.T) {
	if Version() == "" {
		t.Fatal("empty version")
	}
	if CodeInvalidConfig.String() != "invalid_config" || Code(55).String() != "unknown" {
		t.Fatal("code names")
	}
}

// TestNativeStaticLibs keeps the #cgo LDFLAGS in sync with what rustc reports.
func TestNativeStaticLibs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs cargo")
	}
	root, _ := filepath.Abs("../../..")
	cmd := exec.Command("cargo", "rustc", "--quiet", "--release", "--locked", "-p", "replicast-ffi", "--crate-type", "staticlib", "--", "--print", "native-static-libs")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("cargo unavailable: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if _, libs, ok := strings.Cut(line, "native-static-libs: "); ok {
			if strings.TrimSpace(libs) != ldflags {
				t.Fatalf("cgo.go links %q, rustc reports %q: update both", ldflags, strings.TrimSpace(libs))
			}
			return
		}
	}
	t.Skip("rustc printed no native-static-libs line (the library was not rebuilt)")
}

// The predictive source through the typed input: one-second load samples since the previous
// decision, averaged into its minute samples, and a headroom calibrated to an overload budget.
func TestPredictiveWithLoadSamplesAndAnSLO(t *testing.T) {
	s := mustScaler(t, `{"min_replicas": 1, "max_replicas": 100,
	  "predictive": {"capacity_per_replica": 10, "decision_interval_s": 15, "warmup_samples": 10,
	                 "slo": {"max_overloaded_pct": 0.5}}}`)
	st := NewState()
	defer st.Close()
	var d Decision
	for i := int64(1); i <= 4*30; i++ {
		values := make([]float64, 15)
		for j := range values {
			values[j] = 200 + float64((i*15+int64(j))%60)
		}
		ready := uint32(30)
		var err error
		d, err = s.Decide(st, DecisionInput{NowMs: now + i*15_000, CurrentReplicas: 30,
			ReadyReplicas: &ready, LoadSamples: &LoadSamples{StepMs: 1_000, Values: values}})
		if err != nil {
			t.Fatal(err)
		}
	}
	var reason string
	for _, p := range d.Proposals {
		if p.Source == "predictive" {
			reason = p.Reason
		}
	}
	// 30 minute samples of a 60 s sawtooth from 200 to 259: each averages 229.5
	if !strings.Contains(reason, "peaks at 229.5") || !strings.Contains(reason, "σ") ||
		!strings.Contains(reason, "(budget 0.5 %)") {
		t.Fatalf("predictive reason %q", reason)
	}
	_, err := s.Decide(st, DecisionInput{NowMs: now + 200*15_000, CurrentReplicas: 30,
		LoadSamples: &LoadSamples{StepMs: 0, Values: []float64{1}}})
	var re *Error
	if !errors.As(err, &re) || re.Code != CodeInvalidInput ||
		re.Msg != "load_samples.step_ms must be >= 1, got 0" {
		t.Fatalf("want the step error, got %v", err)
	}
	load := 5.0
	if _, err := s.Decide(st, DecisionInput{NowMs: now + 201*15_000, CurrentReplicas: 30,
		Load: &load, LoadSamples: &LoadSamples{StepMs: 1_000, Values: []float64{1}}}); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("load and load_samples together: want InvalidInput, got %v", err)
	}
}
