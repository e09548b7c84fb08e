package replicast

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
)

// The bad-input matrix (testdata/vectors/api/errors.json, docs/errors.md) through the Go
// package: each case Go exposes must fail with a *Error whose Code is the case's kind (so that
// errors.Is with the kind's sentinel holds), never CodePanic, with a message containing the
// case's message_contains; a refused decision or update must leave the state or model as it was.

type errorCase struct {
	Name      string            `json:"name"`
	Class     string            `json:"class"`
	Call      string            `json:"call"`
	SpecJSON  string            `json:"spec_json"`
	Spec      json.RawMessage   `json:"spec"`
	StateJSON *string           `json:"state_json"`
	Before    []json.RawMessage `json:"before"`
	Input     json.RawMessage   `json:"input"`
	Values    []json.RawMessage `json:"values"`
	Model     json.RawMessage   `json:"model"`
	Series    []json.RawMessage `json:"series"`
	Value     json.RawMessage   `json:"value"`
	Horizon   int               `json:"horizon"`
	Level     json.RawMessage   `json:"level"`
	ModelJSON string            `json:"model_json"`
	Expected  struct {
		Kind            string `json:"kind"`
		MessageContains string `json:"message_contains"`
	} `json:"expected"`
}

var sentinels = map[string]*Error{
	"invalid_input":     ErrInvalidInput,
	"invalid_config":    ErrInvalidConfig,
	"insufficient_data": ErrInsufficientData,
	"not_converged":     ErrNotConverged,
	"numerical":         ErrNumerical,
	"serialization":     ErrSerialization,
}

// number reads a JSON number or "NaN", "inf", "-inf".
func number(t *testing.T, raw json.RawMessage) float64 {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "NaN":
			return math.NaN()
		case "inf":
			return math.Inf(1)
		case "-inf":
			return math.Inf(-1)
		}
		t.Fatalf("not a number: %s", s)
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func numbers(t *testing.T, raws []json.RawMessage) []float64 {
	out := make([]float64, len(raws))
	for i, r := range raws {
		out[i] = number(t, r)
	}
	return out
}

// runErrorCase calls the case; ok is false for calls Go does not expose. before and after are
// the state or model JSON around a decide or update.
func runErrorCase(t *testing.T, c errorCase) (err error, before, after []byte, ok bool) {
	switch c.Call {
	case "spec":
		s, err := NewScaler([]byte(c.SpecJSON))
		if err == nil {
			s.Close()
		}
		return err, nil, nil, true
	case "decide", "decide_aggregated":
		s, err := NewScaler(c.Spec)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		st := NewState()
		defer st.Close()
		if c.StateJSON != nil {
			if err := st.UnmarshalJSON([]byte(*c.StateJSON)); err != nil {
				t.Fatal(err)
			}
		}
		for _, in := range c.Before {
			if _, err := s.DecideJSON(st, in); err != nil {
				t.Fatal(err)
			}
		}
		before, _ = st.MarshalJSON()
		if c.Call == "decide" {
			_, err = s.DecideJSON(st, c.Input)
		} else {
			var in struct {
				NowMs           int64  `json:"now_ms"`
				CurrentReplicas uint32 `json:"current_replicas"`
				ReadyReplicas   uint32 `json:"ready_replicas"`
			}
			if err := json.Unmarshal(c.Input, &in); err != nil {
				t.Fatal(err)
			}
			_, err = s.DecideAggregated(st, AggregatedInput{NowMs: in.NowMs, CurrentReplicas: in.CurrentReplicas,
				ReadyReplicas: in.ReadyReplicas}, numbers(t, c.Values))
		}
		after, _ = st.MarshalJSON()
		return err, before, after, true
	case "state":
		var st State
		err := st.UnmarshalJSON([]byte(c.stateText()))
		st.Close()
		return err, nil, nil, true
	case "fit":
		m, err := FitModel(c.Model, numbers(t, c.Series))
		if err == nil {
			m.Close()
		}
		return err, nil, nil, true
	case "update", "predict":
		m, err := FitModel(c.Model, numbers(t, c.Series))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		before, _ = m.MarshalJSON()
		if c.Call == "update" {
			err = m.Update(number(t, c.Value))
		} else {
			_, err = m.Predict(c.Horizon, number(t, c.Level))
		}
		after, _ = m.MarshalJSON()
		return err, before, after, true
	case "model_json":
		var m FittedModel
		err := m.UnmarshalJSON([]byte(c.ModelJSON))
		m.Close()
		return err, nil, nil, true
	}
	return nil, nil, nil, false
}

// stateText is the state_json text of a "state" case.
func (c errorCase) stateText() string {
	if c.StateJSON == nil {
		return ""
	}
	return *c.StateJSON
}

func TestErrorsMatrix(t *testing.T) {
	data, err := os.ReadFile("../../../testdata/vectors/api/errors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []errorCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	ran, classes := 0, map[string]int{}
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			err, before, after, ok := runErrorCase(t, c)
			if !ok {
				t.Skipf("%s is not exposed in Go", c.Call)
			}
			ran++
			classes[c.Class]++
			if c.Expected.Kind == "ok" {
				if err != nil {
					t.Fatalf("expected success, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, expected %s", c.Expected.Kind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not a *Error: %T %v", err, err)
			}
			if e.Code == CodePanic {
				t.Fatalf("panicked: %v", e)
			}
			sentinel := sentinels[c.Expected.Kind]
			if !errors.Is(err, sentinel) || e.Code != sentinel.Code || e.Code.String() != c.Expected.Kind {
				t.Fatalf("expected %s, got %v (code %d)", c.Expected.Kind, err, e.Code)
			}
			if !strings.Contains(e.Msg, c.Expected.MessageContains) {
				t.Fatalf("message %q does not contain %q", e.Msg, c.Expected.MessageContains)
			}
			if !bytes.Equal(before, after) {
				t.Fatalf("the refused call changed the state or model:\n%s\n%s", before, after)
			}
		})
	}
	if ran < 80 {
		t.Fatalf("only %d cases ran", ran)
	}
	if len(classes) < 13 {
		t.Fatalf("only %d classes: %v", len(classes), classes)
	}
}
