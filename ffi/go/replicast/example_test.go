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
