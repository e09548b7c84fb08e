package replicast

import (
	"strings"
	"testing"
)

// The KPA and the vertical recommender through the Go package: the same behaviours as the Rust
// tests core/tests/kpa_scaler.rs and core/tests/vertical.rs, asserted on values.

func kpaTick(at int64, current uint32, total float64) DecisionInput {
	nowMs := now + at*1000
	ready := current
	return DecisionInput{
		NowMs: nowMs, CurrentReplicas: current, ReadyReplicas: &ready,
		Kpa: &KpaObservation{Samples: []KpaSample{
			{TimeMs: nowMs - 1000, Value: total}, {TimeMs: nowMs, Value: total},
		}},
	}
}

func TestKpaPanicsAndScalesToZero(t *testing.T) {
	s := mustScaler(t, `{"min_replicas": 0, "max_replicas": 50, "kpa": {}}`)
	st := NewState()
	defer st.Close()
	// 140 in flight against 70 per pod on one pod: 2 pods, panicking
	d, err := s.Decide(st, kpaTick(2, 1, 140))
	if err != nil {
		t.Fatal(err)
	}
	if d.Replicas != 2 || d.Proposals[0].Source != "kpa" || d.Kpa == nil || !d.Kpa.Scale.Panicking {
		t.Fatalf("want 2 replicas from a panicking kpa, got %+v", d)
	}
	if ebc := d.Kpa.Scale.ExcessBurstCapacity; ebc == nil || *ebc != -251 {
		t.Fatalf("excess burst capacity: want -251, got %v", ebc)
	}
	// idle from 4 s: to zero within the stable window plus the grace period
	current, zeroAt := d.Replicas, int64(-1)
	for at := int64(4); at <= 200; at += 2 {
		d, err := s.Decide(st, kpaTick(at, current, 0))
		if err != nil {
			t.Fatal(err)
		}
		current = d.Replicas
		if current == 0 {
			zeroAt = at
			break
		}
	}
	if zeroAt < 60 || zeroAt > 130 {
		t.Fatalf("want zero between 60 s and 130 s, got %d", zeroAt)
	}
}

func TestKpaBadSamplesAreInputErrors(t *testing.T) {
	s := mustScaler(t, `{"min_replicas": 0, "max_replicas": 5, "kpa": {}}`)
	st := NewState()
	defer st.Close()
	in := kpaTick(2, 1, -3)
	_, err := s.Decide(st, in)
	if err == nil || !strings.Contains(err.Error(), "kpa: samples[0]") {
		t.Fatalf("want a named input error, got %v", err)
	}
}

const hvSpec = `{"min_replicas": 2, "max_replicas": 20,
  "hpa": {"metrics": [{"type": "resource", "resource": "cpu",
    "target": {"type": "utilization", "average_utilization": 70}}]},
  "vpa": {"container_policies": [{"container_name": "app",
    "min_allowed": {"cpu_millicores": 1000, "memory_bytes": 2147483648}}]}}`

func TestHorizontalAndVerticalTogether(t *testing.T) {
	s := mustScaler(t, hvSpec)
	st := NewState()
	defer st.Close()
	cpu, mem := 0.7, 1.2e9
	reqCPU, reqMem, limCPU, limMem := int64(500), int64(1<<30), int64(1000), int64(2<<30)
	var usage []VpaUsage
	for _, pod := range []string{"a", "b", "c", "d"} {
		usage = append(usage, VpaUsage{Container: "app", Pod: pod, CPUCores: &cpu, MemoryBytes: &mem})
	}
	ready := uint32(4)
	d, err := s.Decide(st, DecisionInput{
		NowMs: now, CurrentReplicas: 4, ReadyReplicas: &ready,
		Metrics:        []MetricInput{Aggregated(140, 4)},
		ContainerUsage: usage,
		ContainerResources: []ContainerResources{{Container: "app",
			Requests: Resources{CPUMillicores: &reqCPU, MemoryBytes: &reqMem},
			Limits:   Resources{CPUMillicores: &limCPU, MemoryBytes: &limMem}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// the request goes 500m -> 1000m and the HPA sees 70 %: it holds at 4 instead of 8
	if d.Replicas != 4 || d.Vertical == nil || len(d.Vertical.Apply) != 1 {
		t.Fatalf("want 4 replicas and one resize, got %+v", d)
	}
	got := d.Vertical.Apply[0]
	if *got.Requests.CPUMillicores != 1000 || *got.Limits.CPUMillicores != 2000 {
		t.Fatalf("want requests 1000m / limits 2000m, got %+v", got)
	}
	if !strings.Contains(d.Proposals[0].Reason, "utilization 70%") {
		t.Fatalf("the HPA did not see the new request: %q", d.Proposals[0].Reason)
	}
}
