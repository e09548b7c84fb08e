package replicast

import "testing"

// BenchmarkDecideAggregated: one decision through cgo, fast path (no JSON).
func BenchmarkDecideAggregated(b *testing.B) {
	s := mustScaler(b, benchSpec)
	st := NewState()
	defer st.Close()
	values := []float64{0}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		values[0] = 40 + float64(i%60)
		if _, err := s.DecideAggregated(st, AggregatedInput{NowMs: now + int64(i)*15_000, CurrentReplicas: 10, ReadyReplicas: 10}, values); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideJSON: one decision through cgo with JSON in and out (Go structs both ways).
func BenchmarkDecideJSON(b *testing.B) {
	s := mustScaler(b, benchSpec)
	st := NewState()
	defer st.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		in := DecisionInput{NowMs: now + int64(i)*15_000, CurrentReplicas: 10,
			Metrics: []MetricInput{Aggregated(40+float64(i%60), 10)}}
		if _, err := s.Decide(st, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideAggregatedBatch10k: 10 000 workloads per call; ns/workload is reported.
func BenchmarkDecideAggregatedBatch10k(b *testing.B) {
	const n = 10_000
	s := mustScaler(b, benchSpec)
	states := make([]*State, n)
	inputs := make([]AggregatedInput, n)
	values := make([]float64, n)
	for i := range states {
		states[i] = NewState()
		values[i] = 40 + float64(i%60)
	}
	defer func() {
		for _, st := range states {
			st.Close()
		}
	}()
	out := make([]Summary, n)
	var batch AggregatedBatch
	b.ReportAllocs()
	round := 0
	for b.Loop() {
		round++
		for i := range inputs {
			inputs[i] = AggregatedInput{NowMs: now + int64(round)*15_000, CurrentReplicas: 10, ReadyReplicas: 10}
		}
		if errs, err := s.DecideAggregatedBatch(&batch, states, inputs, values, out); err != nil || errs != nil {
			b.Fatal(err, errs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/workload")
}

const benchSpec = `{"min_replicas": 1, "max_replicas": 100, "hpa": {"metrics": [
  {"type": "resource", "resource": "cpu", "target": {"type": "utilization", "average_utilization": 70}}]}}`
