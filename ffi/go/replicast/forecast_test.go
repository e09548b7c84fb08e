package replicast

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"testing"
)

// lastSeasonSeries is three seasons of period 4; the last one is [10 20 30 40].
var lastSeasonSeries = []float64{1, 2, 3, 4, 5, 6, 7, 8, 10, 20, 30, 40}

func mustFit(t *testing.T, spec any, y []float64) *FittedModel {
	t.Helper()
	m, err := FitModel(spec, y)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestForecastVectors replays testdata/vectors/api/forecast.json (generated from the Rust core
// by ffi/tests/forecast_vectors.rs): fit, updates and the forecast must equal Rust's bit for
// bit, and errors must have Rust's code.
func TestForecastVectors(t *testing.T) {
	data, err := os.ReadFile("../../../testdata/vectors/api/forecast.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vectors []struct {
			Name     string          `json:"name"`
			Spec     json.RawMessage `json:"spec"`
			Y        []float64       `json:"y"`
			Updates  []float64       `json:"updates"`
			Horizon  int             `json:"horizon"`
			Level    float64         `json:"level"`
			Forecast *Forecast       `json:"forecast"`
			NObs     int             `json:"n_obs"`
			Error    Code            `json:"error"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Vectors) < 8 {
		t.Fatalf("only %d vectors", len(doc.Vectors))
	}
	for _, v := range doc.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			fc, nObs, err := func() (Forecast, int, error) {
				m, err := FitModel(v.Spec, v.Y)
				if err != nil {
					return Forecast{}, 0, err
				}
				defer m.Close()
				for _, u := range v.Updates {
					if err := m.Update(u); err != nil {
						return Forecast{}, 0, err
					}
				}
				fc, err := m.Predict(v.Horizon, v.Level)
				if err != nil {
					return Forecast{}, 0, err
				}
				n, err := m.NObs()
				return fc, n, err
			}()
			if v.Error != 0 {
				var e *Error
				if !errors.As(err, &e) || e.Code != v.Error {
					t.Fatalf("want error code %s, got %v", v.Error, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if nObs != v.NObs {
				t.Errorf("n_obs: got %d, want %d", nObs, v.NObs)
			}
			want := *v.Forecast
			if !slices.Equal(fc.Point, want.Point) {
				t.Errorf("point: got %v, want %v", fc.Point, want.Point)
			}
			if (fc.Intervals == nil) != (want.Intervals == nil) {
				t.Fatalf("intervals: got %v, want %v", fc.Intervals, want.Intervals)
			}
			if want.Intervals != nil {
				got, w := fc.Intervals, want.Intervals
				if got.Level != w.Level || !slices.Equal(got.Lower, w.Lower) || !slices.Equal(got.Upper, w.Upper) {
					t.Errorf("intervals: got %+v, want %+v", *got, *w)
				}
			}
		})
	}
}

func TestFitModelAndPredict(t *testing.T) {
	daily := make([]float64, 72)
	for i := range daily {
		daily[i] = 100 + float64(i%24)*float64(i/24+1)
	}
	tests := []struct {
		name  string
		spec  any
		y     []float64
		h     int
		level float64
		want  []float64 // the exact point forecast (nil: only its length is checked)
	}{
		{"seasonal naive is the last period", `{"kind": "seasonal_naive", "period": 4}`, lastSeasonSeries, 4, 0, []float64{10, 20, 30, 40}},
		{"seasonal naive wraps around", []byte(`{"kind": "seasonal_naive", "period": 4}`), lastSeasonSeries, 6, 0.9, []float64{10, 20, 30, 40, 10, 20}},
		{"daily period is the last day", json.RawMessage(`{"kind": "seasonal_naive", "period": 24}`), daily, 24, 0.8, daily[48:]},
		{"naive repeats the last value", map[string]any{"kind": "seasonal_naive", "period": 1}, []float64{3, 1, 4}, 3, 0, []float64{4, 4, 4}},
		{"ets", `{"kind": "ets", "period": 24}`, daily, 12, 0.95, nil},
		{"auto", `{"kind": "auto", "step_s": 3600}`, daily, 5, 0.9, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustFit(t, tc.spec, tc.y)
			fc, err := m.Predict(tc.h, tc.level)
			if err != nil {
				t.Fatal(err)
			}
			if len(fc.Point) != tc.h {
				t.Fatalf("got %d points, want %d", len(fc.Point), tc.h)
			}
			if tc.want != nil && !slices.Equal(fc.Point, tc.want) {
				t.Errorf("point: got %v, want %v", fc.Point, tc.want)
			}
			if tc.level == 0 {
				if fc.Intervals != nil {
					t.Errorf("level 0 gave intervals %+v", fc.Intervals)
				}
				return
			}
			iv := fc.Intervals
			if iv == nil || iv.Level != tc.level || len(iv.Lower) != tc.h || len(iv.Upper) != tc.h {
				t.Fatalf("intervals: %+v", iv)
			}
			for i := range fc.Point {
				if !(iv.Lower[i] <= fc.Point[i] && fc.Point[i] <= iv.Upper[i]) {
					t.Errorf("step %d: %v not in [%v, %v]", i+1, fc.Point[i], iv.Lower[i], iv.Upper[i])
				}
			}
		})
	}
}

func TestFitModelErrors(t *testing.T) {
	withNaN := slices.Clone(lastSeasonSeries)
	withNaN[5] = math.NaN()
	withInf := slices.Clone(lastSeasonSeries)
	withInf[2] = math.Inf(-1)
	naive4 := `{"kind": "seasonal_naive", "period": 4}`
	tests := []struct {
		name string
		spec any
		y    []float64
		want error
	}{
		{"NaN value", naive4, withNaN, ErrInvalidInput},
		{"infinite value", naive4, withInf, ErrInvalidInput},
		{"empty series", naive4, nil, ErrInvalidInput},
		{"too short", naive4, []float64{1, 2}, ErrInsufficientData},
		{"malformed JSON", `{"kind": `, lastSeasonSeries, ErrInvalidConfig},
		{"unknown kind", `{"kind": "prophet"}`, lastSeasonSeries, ErrInvalidConfig},
		{"unknown field", `{"kind": "ets", "bogus": 1}`, lastSeasonSeries, ErrInvalidConfig},
		{"period 0", `{"kind": "seasonal_naive", "period": 0}`, lastSeasonSeries, ErrInvalidConfig},
		{"unmarshallable spec", make(chan int), lastSeasonSeries, ErrInvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := FitModel(tc.spec, tc.y)
			if m != nil || !errors.Is(err, tc.want) {
				t.Fatalf("got (%v, %v), want %v", m, err, tc.want)
			}
		})
	}
	_, err := FitModel(naive4, withNaN)
	if want := "replicast: invalid_input: y[5] must be finite, got NaN"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestPredictErrors(t *testing.T) {
	m := mustFit(t, `{"kind": "seasonal_naive", "period": 4}`, lastSeasonSeries)
	for _, tc := range []struct {
		h     int
		level float64
	}{{0, 0}, {-1, 0}, {0, 0.9}, {3, 1}, {3, 1.5}, {3, -0.1}, {3, math.NaN()}} {
		if _, err := m.Predict(tc.h, tc.level); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Predict(%d, %v): got %v, want invalid input", tc.h, tc.level, err)
		}
	}
}

func TestUpdate(t *testing.T) {
	m := mustFit(t, `{"kind": "seasonal_naive", "period": 4}`, lastSeasonSeries)
	if err := m.Update(11); err != nil {
		t.Fatal(err)
	}
	fc, err := m.Predict(4, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{20, 30, 40, 11}; !slices.Equal(fc.Point, want) {
		t.Errorf("after update: %v, want %v", fc.Point, want)
	}
	before, _ := m.MarshalJSON()
	for _, bad := range []float64{math.NaN(), math.Inf(1)} {
		if err := m.Update(bad); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Update(%v): %v", bad, err)
		}
	}
	after, _ := m.MarshalJSON()
	if string(before) != string(after) {
		t.Error("a failed update changed the model")
	}
	if n, err := m.NObs(); n != 13 || err != nil {
		t.Errorf("NObs: %d, %v", n, err)
	}
}

func TestFittedModelJSON(t *testing.T) {
	daily := make([]float64, 96)
	for i := range daily {
		daily[i] = 50 + 10*math.Sin(float64(i)*2*math.Pi/24) + float64(i%5)
	}
	m := mustFit(t, `{"kind": "ets", "period": 24}`, daily)
	// Inside a Go struct, through encoding/json.
	type saved struct {
		Model *FittedModel `json:"model"`
	}
	data, err := json.Marshal(saved{m})
	if err != nil {
		t.Fatal(err)
	}
	var back saved
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	defer back.Model.Close()
	want, _ := m.Predict(30, 0.8)
	got, err := back.Model.Predict(30, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Point, want.Point) || !slices.Equal(got.Intervals.Upper, want.Intervals.Upper) {
		t.Errorf("restored model forecasts differently")
	}
	a, _ := m.MarshalJSON()
	b, _ := back.Model.MarshalJSON()
	if string(a) != string(b) {
		t.Errorf("JSON changed in a round trip")
	}

	// Bad JSON: a serialization error; a live target is left as it was.
	for _, bad := range []string{"{", `{"kind": "prophet"}`, "[]", ""} {
		if err := back.Model.UnmarshalJSON([]byte(bad)); !errors.Is(err, ErrSerialization) {
			t.Errorf("UnmarshalJSON(%q): %v", bad, err)
		}
	}
	if _, err := back.Model.Predict(1, 0); err != nil {
		t.Errorf("a failed UnmarshalJSON broke the model: %v", err)
	}
}

func TestFittedModelClose(t *testing.T) {
	m, err := FitModel(`{"kind": "seasonal_naive", "period": 4}`, lastSeasonSeries)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := m.Predict(1, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Predict after Close: %v", err)
	}
	if err := m.Update(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close: %v", err)
	}
	if _, err := m.NObs(); !errors.Is(err, ErrClosed) {
		t.Errorf("NObs after Close: %v", err)
	}
	if _, err := m.MarshalJSON(); !errors.Is(err, ErrClosed) {
		t.Errorf("MarshalJSON after Close: %v", err)
	}
	var nilModel *FittedModel
	if err := nilModel.Close(); err != nil {
		t.Error(err)
	}
	if _, err := nilModel.Predict(1, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Predict on nil: %v", err)
	}
}

// TestFittedModelConcurrentPredict: read-only calls may run concurrently (run with -race).
func TestFittedModelConcurrentPredict(t *testing.T) {
	m := mustFit(t, `{"kind": "seasonal_naive", "period": 4}`, lastSeasonSeries)
	done := make(chan error)
	for range 8 {
		go func() {
			for range 100 {
				fc, err := m.Predict(4, 0.9)
				if err == nil && fc.Point[0] != 10 {
					err = errors.New("wrong forecast")
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
