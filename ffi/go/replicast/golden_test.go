package replicast

import (
	"encoding/json"
	"os"
	"testing"
)

// TestReconcileVectors decides every record of testdata/vectors/api/reconcile.json (the shared
// Kubernetes `reconcile` vectors in replicast's JSON forms, exported by the Rust conformance
// test) through the C ABI: the replicas, rescale flag and conditions must match the upstream
// expectation, and the decision and next state must equal Rust's byte for byte.
func TestReconcileVectors(t *testing.T) {
	data, err := os.ReadFile("../../../testdata/vectors/api/reconcile.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vectors []struct {
			Name     string          `json:"name"`
			Spec     json.RawMessage `json:"spec"`
			State    json.RawMessage `json:"state"`
			Input    json.RawMessage `json:"input"`
			Expected struct {
				Replicas   uint32 `json:"replicas"`
				Rescale    bool   `json:"rescale"`
				Conditions []struct {
					Type   string `json:"type"`
					Status string `json:"status"`
					Reason string `json:"reason"`
				} `json:"conditions"`
			} `json:"expected"`
			Decision   json.RawMessage `json:"decision"`
			StateAfter json.RawMessage `json:"state_after"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Vectors) < 50 {
		t.Fatalf("only %d vectors", len(doc.Vectors))
	}
	for _, v := range doc.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			s, err := NewScaler(v.Spec)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var st State
			if err := st.UnmarshalJSON(v.State); err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			// Through the Go types: input JSON → DecisionInput → JSON again.
			var in DecisionInput
			if err := json.Unmarshal(v.Input, &in); err != nil {
				t.Fatal(err)
			}
			d, err := s.Decide(&st, in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Replicas != v.Expected.Replicas || d.Rescale != v.Expected.Rescale {
				t.Fatalf("got %d (rescale %v), upstream expects %d (%v)", d.Replicas, d.Rescale, v.Expected.Replicas, v.Expected.Rescale)
			}
			if len(d.Conditions) != len(v.Expected.Conditions) {
				t.Fatalf("conditions %+v, want %+v", d.Conditions, v.Expected.Conditions)
			}
			for i, c := range v.Expected.Conditions {
				got := d.Conditions[i]
				status := "False"
				if got.Status {
					status = "True"
				}
				if got.Type != c.Type || status != c.Status || got.Reason != c.Reason {
					t.Fatalf("condition %d: got %+v, want %+v", i, got, c)
				}
			}
			if !sameJSON(t, mustJSON(t, d), v.Decision) {
				t.Fatalf("decision differs from Rust's:\n%s\n%s", mustJSON(t, d), v.Decision)
			}
			after, err := st.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, after, v.StateAfter) {
				t.Fatalf("next state differs from Rust's:\n%s\n%s", after, v.StateAfter)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameJSON compares two documents as values (key order and spacing aside).
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	return string(mustJSON(t, va)) == string(mustJSON(t, vb))
}

// TestSourceScenarios replays testdata/vectors/api/sources.json (KEDA, KPA and VPA decision
// sequences exported by the Rust test golden_sources) through the Go types and the C ABI:
// every decision and the final state must equal Rust's.
func TestSourceScenarios(t *testing.T) {
	data, err := os.ReadFile("../../../testdata/vectors/api/sources.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Scenarios []struct {
			Name  string          `json:"name"`
			Spec  json.RawMessage `json:"spec"`
			Steps []struct {
				Input    json.RawMessage `json:"input"`
				Decision json.RawMessage `json:"decision"`
			} `json:"steps"`
			StateAfter json.RawMessage `json:"state_after"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Scenarios) < 4 {
		t.Fatalf("only %d scenarios", len(doc.Scenarios))
	}
	for _, sc := range doc.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			s, err := NewScaler(sc.Spec)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			st := NewState()
			defer st.Close()
			for i, step := range sc.Steps {
				var in DecisionInput
				if err := json.Unmarshal(step.Input, &in); err != nil {
					t.Fatal(err)
				}
				d, err := s.Decide(st, in)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if !sameJSON(t, mustJSON(t, d), step.Decision) {
					t.Fatalf("step %d: decision differs from Rust's:\n%s\n%s", i, mustJSON(t, d), step.Decision)
				}
			}
			after, err := st.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, after, sc.StateAfter) {
				t.Fatalf("final state differs from Rust's")
			}
		})
	}
}
