package replicast

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
)

// TestConcurrentDecideSources extends TestConcurrentDecide to every source: one shared Scaler
// per spec (HPA, a KEDA ScaledObject, a Knative KPA, HPA+VPA), many goroutines each deciding
// closed-loop workloads with their own States (half through the Go types, half through JSON).
// Every decision and every final state must equal the serial run's; `go test -race` (the test
// command) checks the Go side for races.
func TestConcurrentDecideSources(t *testing.T) {
	specs := sourceSpecs(t)
	scalers := map[string]*Scaler{}
	for name, spec := range specs {
		s, err := NewScaler(spec)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer s.Close()
		scalers[name] = s
	}
	type workload struct {
		source string
		seed   int
	}
	var workloads []workload
	for _, source := range []string{"hpa", "keda", "kpa", "vpa"} {
		for seed := range 3 {
			workloads = append(workloads, workload{source, seed})
		}
	}
	const steps = 30
	serial := make([]string, len(workloads))
	for i, w := range workloads {
		out, err := runSourceWorkload(scalers[w.source], w.source, w.seed, steps, true)
		if err != nil {
			t.Fatalf("serial %s/%d: %v", w.source, w.seed, err)
		}
		serial[i] = out
		if !bytes.Contains([]byte(out), []byte(`"rescale":true`)) || !bytes.Contains([]byte(out), []byte(`"rescale":false`)) {
			t.Fatalf("serial %s/%d: the workload should both rescale and hold", w.source, w.seed)
		}
		part := map[string]string{"hpa": `"proposals"`, "keda": `"keda"`, "kpa": `"kpa"`, "vpa": `"vertical"`}[w.source]
		if !bytes.Contains([]byte(out), []byte(part)) {
			t.Fatalf("serial %s/%d: no %s in the decisions", w.source, w.seed, part)
		}
	}
	const goroutines = 12
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*len(workloads))
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// each goroutine runs every workload, starting at a different one, so that all
			// four scalers are in use by several goroutines at once
			for k := range workloads {
				i := (g + k) % len(workloads)
				w := workloads[i]
				out, err := runSourceWorkload(scalers[w.source], w.source, w.seed, steps, g%2 == 0)
				if err != nil {
					errs <- fmt.Errorf("goroutine %d %s/%d: %w", g, w.source, w.seed, err)
					return
				}
				if out != serial[i] {
					errs <- fmt.Errorf("goroutine %d %s/%d differs from the serial run", g, w.source, w.seed)
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

// sourceSpecs: the HPA spec of these tests and the KEDA, KPA and HPA+VPA specs of the shared
// source scenarios.
func sourceSpecs(t *testing.T) map[string]json.RawMessage {
	data, err := os.ReadFile("../../../testdata/vectors/api/sources.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Scenarios []struct {
			Name string          `json:"name"`
			Spec json.RawMessage `json:"spec"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	specs := map[string]json.RawMessage{"hpa": json.RawMessage(cpuSpec)}
	for _, sc := range doc.Scenarios {
		switch sc.Name {
		case "keda-scaledobject-activation-fallback-cooldown":
			specs["keda"] = sc.Spec
		case "kpa-knative-service-panic-and-zero":
			specs["kpa"] = sc.Spec
		case "hpa-vpa-seed":
			specs["vpa"] = sc.Spec
		}
	}
	if len(specs) != 4 {
		t.Fatalf("specs: %v", specs)
	}
	return specs
}

// pseudo is a deterministic value in [0, 1) for (seed, step, k).
func pseudo(seed, step, k int) float64 {
	x := uint64(seed*1_000_003+step*7919+k*104_729) + 0x9e3779b97f4a7c15
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return float64(x>>11) / float64(1<<53)
}

// sourceInput is the observation of step i of a workload of source at current replicas.
func sourceInput(source string, seed, i int, current uint32) map[string]any {
	agg := func(v float64) map[string]any {
		return map[string]any{"kind": "aggregated", "value": v, "ready_replicas": current}
	}
	in := map[string]any{"current_replicas": current, "ready_replicas": current}
	switch source {
	case "hpa":
		in["now_ms"] = now + int64(i)*15_000
		in["metrics"] = []any{agg(15 + 70*pseudo(seed, i, 0))}
	case "keda":
		in["now_ms"] = now + int64(i)*30_000
		queue := any(agg(60 * pseudo(seed, i, 0)))
		if pseudo(seed, i, 1) < 0.15 {
			queue = map[string]any{"kind": "unavailable", "reason": "scaler unreachable"}
		}
		in["metrics"] = []any{queue, agg(pseudo(seed, i, 2))}
	case "kpa":
		tick := now + 6_000*int64(i+1)
		total := 200 * pseudo(seed, i, 0)
		if i > 20 {
			total = 0
		}
		samples := make([]any, 6)
		for k := range samples {
			samples[k] = map[string]any{"time_ms": tick - 5_000 + int64(k)*1_000, "value": total}
		}
		in["now_ms"] = tick
		in["kpa"] = map[string]any{"samples": samples}
	case "vpa":
		in["now_ms"] = now + int64(i)*600_000
		cpu := 0.5 + 3*pseudo(seed, i, 0)
		usage := make([]any, current)
		for p := range usage {
			usage[p] = map[string]any{"container": "sutazai-backend", "pod": fmt.Sprintf("backend-%d", p),
				"cpu_cores": cpu / float64(current), "memory_bytes": 1e9 + 5e8*pseudo(seed, i, p+1)}
		}
		in["metrics"] = []any{agg(100 * cpu / float64(current)), map[string]any{"kind": "object", "value_milli": 40_000}}
		in["container_usage"] = usage
		in["container_resources"] = []any{map[string]any{"container": "sutazai-backend",
			"requests": map[string]any{"cpu_millicores": 1000, "memory_bytes": 2_147_483_648},
			"limits":   map[string]any{"cpu_millicores": 2000, "memory_bytes": 4_294_967_296}}}
	}
	return in
}

// runSourceWorkload decides steps closed-loop observations (each at the previous decision's
// replicas) with a fresh State, through DecideJSON (viaJSON) or Decide, and returns the
// decision of every step and the final state.
func runSourceWorkload(s *Scaler, source string, seed, steps int, viaJSON bool) (string, error) {
	st := NewState()
	defer st.Close()
	current := uint32(2)
	var out bytes.Buffer
	for i := range steps {
		input, err := json.Marshal(sourceInput(source, seed, i, current))
		if err != nil {
			return "", err
		}
		var d Decision
		if viaJSON {
			raw, err := s.DecideJSON(st, input)
			if err != nil {
				return "", fmt.Errorf("step %d: %w", i, err)
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				return "", err
			}
		} else {
			var in DecisionInput
			if err := json.Unmarshal(input, &in); err != nil {
				return "", err
			}
			if d, err = s.Decide(st, in); err != nil {
				return "", fmt.Errorf("step %d: %w", i, err)
			}
		}
		// the whole decision (proposals, steps, KEDA, KPA and vertical parts), in one form
		whole, err := json.Marshal(d)
		if err != nil {
			return "", err
		}
		out.Write(whole)
		out.WriteString("\n")
		current = d.Replicas
	}
	state, err := st.MarshalJSON()
	if err != nil {
		return "", err
	}
	out.Write(state)
	return out.String(), nil
}
