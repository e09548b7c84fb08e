package replicast_test

import (
	"errors"
	"fmt"

	"github.com/replicast/replicast/ffi/go/replicast"
)

func Example() {
	scaler, err := replicast.NewScaler(`{
	  "min_replicas": 2, "max_replicas": 20,
	  "hpa": {"metrics": [{"type": "resource", "resource": "cpu",
	    "target": {"type": "utilization", "average_utilization": 70}}]}}`)
	if err != nil {
		panic(err)
	}
	defer scaler.Close()
	state := replicast.NewState() // one per workload; persist it with json.Marshal
	defer state.Close()

	// 4 ready pods averaging 105 % of their CPU request.
	d, err := scaler.Decide(state, replicast.DecisionInput{
		NowMs:           1_700_000_000_000,
		CurrentReplicas: 4,
		Metrics:         []replicast.MetricInput{replicast.Aggregated(105, 4)},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Replicas, d.Rescale)
	fmt.Println(d.Proposals[0].Reason)
	// Output:
	// 6 true
	// utilization 105%, ratio 1.500 to target
}

func ExampleNewScaler_error() {
	_, err := replicast.NewScaler(`{"min_replicas": 5, "max_replicas": 2}`)
	fmt.Println(errors.Is(err, replicast.ErrInvalidConfig))
	fmt.Println(err)
	// Output:
	// true
	// replicast: invalid_config: min_replicas must be <= max_replicas (2), got 5
}

func ExampleScaler_DecideAggregated() {
	scaler, _ := replicast.NewScaler(`{"max_replicas": 10, "hpa": {"metrics": [
	  {"type": "resource", "resource": "cpu", "target": {"type": "utilization", "average_utilization": 50}}]}}`)
	defer scaler.Close()
	state := replicast.NewState()
	defer state.Close()
	sum, err := scaler.DecideAggregated(state,
		replicast.AggregatedInput{NowMs: 1_700_000_000_000, CurrentReplicas: 2, ReadyReplicas: 2},
		[]float64{100})
	fmt.Println(sum.Replicas, sum.Rescale, sum.LastStage == replicast.StageCombine, err)
	// Output: 4 true true <nil>
}

func ExampleFitModel() {
	// Three days of hourly load; a seasonal naive model forecasts the last day again.
	y := make([]float64, 72)
	for i := range y {
		y[i] = float64(100 + i%24 + i/24)
	}
	model, err := replicast.FitModel(`{"kind": "seasonal_naive", "period": 24}`, y)
	if err != nil {
		panic(err)
	}
	defer model.Close()

	fc, err := model.Predict(3, 0) // level 0: no interval
	fmt.Println(fc.Point, fc.Intervals == nil, err)
	_ = model.Update(150) // the next hour's observation
	fc, _ = model.Predict(3, 0.9)
	fmt.Println(fc.Point, fc.Intervals.Lower[0] < fc.Point[0])

	_, err = replicast.FitModel(`{"kind": "seasonal_naive", "period": 24}`, y[:10])
	fmt.Println(errors.Is(err, replicast.ErrInsufficientData))
	// Output:
	// [102 103 104] true <nil>
	// [103 104 105] true
	// true
}
