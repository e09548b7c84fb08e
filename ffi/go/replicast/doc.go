// Package replicast is the Go binding of replicast, the decision an autoscaler makes — how many
// replicas now, and why — as a pure library (Kubernetes-exact HPA, threshold hysteresis).
//
// A [Scaler] is a validated spec; it is immutable and safe for concurrent use by many
// goroutines. A [State] is one workload's memory between decisions (stabilization windows,
// rate-limit events, cooldowns); it is not safe for concurrent use: give each workload its own
// and persist it with [State.MarshalJSON]. Decisions never read a clock: the time is
// [DecisionInput.NowMs].
//
// Forecasting: [FitModel] fits a model spec (seasonal naive, ETS or auto-selected) to a series
// and returns a [FittedModel], which predicts with intervals and absorbs new observations
// without refitting.
//
// The package links the static C library (libreplicast.a) through cgo; build it once with
// scripts/build-ffi.sh from the repository root. The handle types hold C memory: call Close
// when done (a cleanup frees forgotten handles, but only eventually).
package replicast
