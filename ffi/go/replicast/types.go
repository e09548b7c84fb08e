package replicast

import (
	"encoding/json"
	"fmt"
)

// DecisionInput is everything observed for one workload at one instant (the Rust
// `replicast::DecisionInput`; same JSON).
type DecisionInput struct {
	// NowMs is the decision instant in milliseconds; it must not go back in time between
	// decisions on one State.
	NowMs int64 `json:"now_ms"`
	// CurrentReplicas is the target's desired replicas now (scale.spec.replicas).
	CurrentReplicas uint32 `json:"current_replicas"`
	// StatusReplicas is the replicas that exist (scale.status.replicas); nil means CurrentReplicas.
	StatusReplicas *uint32 `json:"status_replicas,omitempty"`
	// ReadyReplicas is the ready pods, for callers that do not pass Pods.
	ReadyReplicas *uint32 `json:"ready_replicas,omitempty"`
	// Pods is the per-pod state for Kubernetes-exact pod handling; nil means none given (an
	// empty, non-nil slice means zero pods).
	Pods []Pod `json:"pods"`
	// Metrics has one input per HPA metric of the spec, in spec order.
	Metrics []MetricInput `json:"metrics,omitempty"`
	// Load is the mean load since LoadSinceMs (nil: over the predictive source's last sample
	// interval), for the predictive source, in the units of its capacity_per_replica.
	Load *float64 `json:"load,omitempty"`
	// LoadSinceMs is where the window of Load starts.
	LoadSinceMs *int64 `json:"load_since_ms,omitempty"`
	// LoadSamples is, instead of Load, the load samples since the previous decision.
	LoadSamples *LoadSamples `json:"load_samples,omitempty"`
	// Signals are named values for the threshold source ("cpu", "memory", ...).
	Signals map[string]float64 `json:"signals,omitempty"`
	// Healthy is the caller's health check; false blocks scale-down.
	Healthy *bool `json:"healthy,omitempty"`
	// Kpa is the KPA source's samples (revision-wide totals) or stable/panic averages.
	Kpa *KpaObservation `json:"kpa,omitempty"`
	// ContainerUsage is per-container usage for the vertical recommender (vpa source).
	ContainerUsage []VpaUsage `json:"container_usage,omitempty"`
	// ContainerResources is the pod's current requests and limits per container.
	ContainerResources []ContainerResources `json:"container_resources,omitempty"`
}

// KpaObservation is what a decision carries for a kpa source: the samples since the previous
// decision or the caller's own averages, and what the caller knows of the ServerlessService
// and the activator (the Rust `replicast::kpa::KpaObservation`).
type KpaObservation struct {
	Samples         []KpaSample  `json:"samples,omitempty"`
	Averages        *KpaAverages `json:"averages,omitempty"`
	SksProxySinceMs *int64       `json:"sks_proxy_since_ms,omitempty"`
	ActivatorInPath *bool        `json:"activator_in_path,omitempty"`
}

// KpaSample is the revision-wide total of the KPA's metric (concurrency or rps) at TimeMs.
type KpaSample struct {
	TimeMs int64   `json:"time_ms"`
	Value  float64 `json:"value"`
}

// KpaAverages are the stable and panic window averages of the revision-wide total.
type KpaAverages struct {
	Stable float64 `json:"stable"`
	Panic  float64 `json:"panic"`
}

// VpaUsage is one container's usage at one instant, for the vertical recommender (the Rust
// `replicast::vpa::ContainerUsage`; the Go name keeps it apart from the HPA's per-pod
// ContainerUsage). Pod tells pods apart ("" = one stream); StartMs defaults to the decision's
// NowMs.
type VpaUsage struct {
	Container               string   `json:"container"`
	Pod                     string   `json:"pod,omitempty"`
	StartMs                 *int64   `json:"start_ms,omitempty"`
	CPUCores                *float64 `json:"cpu_cores,omitempty"`
	MemoryBytes             *float64 `json:"memory_bytes,omitempty"`
	OOMRequestedMemoryBytes *float64 `json:"oom_requested_memory_bytes,omitempty"`
}

// Resources are CPU (millicores) and memory (bytes) amounts; nil means unset.
type Resources struct {
	CPUMillicores *int64 `json:"cpu_millicores,omitempty"`
	MemoryBytes   *int64 `json:"memory_bytes,omitempty"`
}

// ContainerResources are a container's current requests and limits (and the LimitRange's
// default limits, used when it has none; nil when there are none).
type ContainerResources struct {
	Container     string     `json:"container"`
	Requests      Resources  `json:"requests"`
	Limits        Resources  `json:"limits"`
	DefaultLimits *Resources `json:"default_limits,omitempty"`
}

// LoadSamples are load samples that end at the decision instant, StepMs apart: with n values,
// Values[i] is the mean load over the StepMs that end (n-1-i)*StepMs before NowMs (what a range
// query over the time since the previous decision returns). The predictive source averages them
// into its own sample interval; parts it has seen before count once (the Rust
// `replicast::LoadSamples`).
type LoadSamples struct {
	StepMs int64     `json:"step_ms"`
	Values []float64 `json:"values"`
}

// Pod is a pod of the scale target as the HPA controller sees it.
type Pod struct {
	Name             string           `json:"name"`
	Phase            string           `json:"phase"` // pending, running, succeeded, failed, unknown
	Deleting         bool             `json:"deleting,omitempty"`
	StartTimeMs      *int64           `json:"start_time_ms,omitempty"`
	Ready            *ReadyCondition  `json:"ready,omitempty"`
	Containers       []Container      `json:"containers,omitempty"`
	InitContainers   []InitContainer  `json:"init_containers,omitempty"`
	PodRequestsMilli map[string]int64 `json:"pod_requests_milli,omitempty"`
}

// ReadyCondition is a pod's Ready condition.
type ReadyCondition struct {
	Status           string `json:"status"` // true, false, unknown
	LastTransitionMs int64  `json:"last_transition_ms"`
}

// Container is a regular container and its requests in milli-units by resource.
type Container struct {
	Name          string           `json:"name"`
	RequestsMilli map[string]int64 `json:"requests_milli,omitempty"`
}

// InitContainer is an init container; a sidecar (RestartAlways) counts towards requests.
type InitContainer struct {
	Name          string           `json:"name"`
	RequestsMilli map[string]int64 `json:"requests_milli,omitempty"`
	RestartAlways bool             `json:"restart_always,omitempty"`
}

// PodResourceSample is one pod's resource usage sample.
type PodResourceSample struct {
	Pod         string           `json:"pod"`
	TimestampMs int64            `json:"timestamp_ms"`
	WindowMs    int64            `json:"window_ms"`
	Containers  []ContainerUsage `json:"containers"`
}

// ContainerUsage is a container's usage in milli-units; nil when it did not report it.
type ContainerUsage struct {
	Name       string `json:"name"`
	UsageMilli *int64 `json:"usage_milli"`
}

// PodMetricSample is one pod's value of a custom (Pods) metric.
type PodMetricSample struct {
	Pod         string `json:"pod"`
	ValueMilli  int64  `json:"value_milli"`
	TimestampMs int64  `json:"timestamp_ms"`
	WindowMs    int64  `json:"window_ms,omitempty"`
}

// MetricKind says which form a [MetricInput] has.
type MetricKind string

// The forms of a metric input.
const (
	KindResource    MetricKind = "resource"
	KindPods        MetricKind = "pods"
	KindObject      MetricKind = "object"
	KindExternal    MetricKind = "external"
	KindAggregated  MetricKind = "aggregated"
	KindUnavailable MetricKind = "unavailable"
)

// MetricInput is the observation for one HPA metric (a tagged union on Kind; build it with
// [Aggregated], [Unavailable], [Object], [External], [ResourceSamples] or [PodSamples]).
type MetricInput struct {
	Kind MetricKind
	// Value and ReadyReplicas: KindAggregated (percent utilisation, per-pod average or total).
	Value         float64
	ReadyReplicas uint32
	// ValueMilli: KindObject. ValuesMilli: KindExternal.
	ValueMilli  int64
	ValuesMilli []int64
	// Reason: KindUnavailable.
	Reason string
	// ResourceSamples: KindResource. PodSamples: KindPods.
	ResourceSamples []PodResourceSample
	PodSamples      []PodMetricSample
}

// Aggregated is an already aggregated metric value over readyReplicas pods.
func Aggregated(value float64, readyReplicas uint32) MetricInput {
	return MetricInput{Kind: KindAggregated, Value: value, ReadyReplicas: readyReplicas}
}

// Unavailable is a metric that could not be fetched (the decision holds instead of scaling down).
func Unavailable(reason string) MetricInput {
	return MetricInput{Kind: KindUnavailable, Reason: reason}
}

// Object is the value of an Object metric in milli-units.
func Object(valueMilli int64) MetricInput {
	return MetricInput{Kind: KindObject, ValueMilli: valueMilli}
}

// External is every series of an External metric in milli-units.
func External(valuesMilli ...int64) MetricInput {
	return MetricInput{Kind: KindExternal, ValuesMilli: valuesMilli}
}

// ResourceSamples is per-pod resource usage (Resource and ContainerResource metrics).
func ResourceSamples(samples []PodResourceSample) MetricInput {
	return MetricInput{Kind: KindResource, ResourceSamples: samples}
}

// PodSamples is per-pod custom metric values (Pods metrics).
func PodSamples(samples []PodMetricSample) MetricInput {
	return MetricInput{Kind: KindPods, PodSamples: samples}
}

// MarshalJSON writes the Rust serde form ({"kind": "aggregated", "value": ..., ...}).
func (m MetricInput) MarshalJSON() ([]byte, error) {
	switch m.Kind {
	case KindAggregated:
		return json.Marshal(struct {
			Kind          MetricKind `json:"kind"`
			Value         float64    `json:"value"`
			ReadyReplicas uint32     `json:"ready_replicas"`
		}{m.Kind, m.Value, m.ReadyReplicas})
	case KindUnavailable:
		return json.Marshal(struct {
			Kind   MetricKind `json:"kind"`
			Reason string     `json:"reason"`
		}{m.Kind, m.Reason})
	case KindObject:
		return json.Marshal(struct {
			Kind       MetricKind `json:"kind"`
			ValueMilli int64      `json:"value_milli"`
		}{m.Kind, m.ValueMilli})
	case KindExternal:
		return json.Marshal(struct {
			Kind        MetricKind `json:"kind"`
			ValuesMilli []int64    `json:"values_milli"`
		}{m.Kind, nonNil(m.ValuesMilli)})
	case KindResource:
		return json.Marshal(struct {
			Kind    MetricKind          `json:"kind"`
			Samples []PodResourceSample `json:"samples"`
		}{m.Kind, nonNil(m.ResourceSamples)})
	case KindPods:
		return json.Marshal(struct {
			Kind    MetricKind        `json:"kind"`
			Samples []PodMetricSample `json:"samples"`
		}{m.Kind, nonNil(m.PodSamples)})
	default:
		return nil, fmt.Errorf("replicast: unknown metric input kind %q", m.Kind)
	}
}

// UnmarshalJSON reads the Rust serde form.
func (m *MetricInput) UnmarshalJSON(data []byte) error {
	var raw struct {
		Kind          MetricKind      `json:"kind"`
		Value         float64         `json:"value"`
		ReadyReplicas uint32          `json:"ready_replicas"`
		ValueMilli    int64           `json:"value_milli"`
		ValuesMilli   []int64         `json:"values_milli"`
		Reason        string          `json:"reason"`
		Samples       json.RawMessage `json:"samples"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*m = MetricInput{Kind: raw.Kind, Value: raw.Value, ReadyReplicas: raw.ReadyReplicas,
		ValueMilli: raw.ValueMilli, ValuesMilli: raw.ValuesMilli, Reason: raw.Reason}
	switch raw.Kind {
	case KindResource:
		return json.Unmarshal(raw.Samples, &m.ResourceSamples)
	case KindPods:
		return json.Unmarshal(raw.Samples, &m.PodSamples)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Decision is the outcome of one decision: the replicas to run and why (the Rust
// `replicast::Decision`; same JSON).
type Decision struct {
	Replicas        uint32      `json:"replicas"`
	CurrentReplicas uint32      `json:"current_replicas"`
	Rescale         bool        `json:"rescale"`
	Proposals       []Proposal  `json:"proposals"`
	Steps           []Step      `json:"steps"`
	Conditions      []Condition `json:"conditions"`
	Errors          []string    `json:"errors"`
	// Keda is KEDA's view of the decision (a spec with a keda source only).
	Keda *KedaStatus `json:"keda,omitempty"`
	// Kpa is the KPA's decider and reconciler outcomes (a spec with a kpa source only).
	Kpa *KpaDecision `json:"kpa,omitempty"`
	// Vertical is the vertical recommendation and the requests to apply (a vpa source only).
	Vertical *VerticalDecision `json:"vertical,omitempty"`
}

// KpaDecision is one KPA tick: the decider's outcome and the reconciler's (nil when the ready
// pods could not be counted) (the Rust `replicast::kpa::KpaDecision`).
type KpaDecision struct {
	Scale     KpaScale      `json:"scale"`
	Reconcile *KpaReconcile `json:"reconcile"`
}

// KpaScale is the decider's outcome: DesiredPodCount and ExcessBurstCapacity are nil when the
// tick is invalid (Invalid says why: no_data, pod_count_unavailable).
type KpaScale struct {
	DesiredPodCount     *int32       `json:"desired_pod_count"`
	ExcessBurstCapacity *int32       `json:"excess_burst_capacity"`
	Invalid             *string      `json:"invalid"`
	Panicking           bool         `json:"panicking"`
	Observed            *KpaAverages `json:"observed"`
	StablePods          *float64     `json:"stable_pods"`
	PanicPods           *float64     `json:"panic_pods"`
	Steps               []KpaStep    `json:"steps"`
}

// KpaReconcile is the reconciler's outcome: Want after min/max/initial scale and the
// scale-to-zero rules (-1 unknown), whether it applies, what it waits for, the
// ServerlessService mode (proxy, serve), the activator count and the Active condition
// (active, activating, inactive).
type KpaReconcile struct {
	DesiredScale   int32     `json:"desired_scale"`
	Want           int32     `json:"want"`
	Apply          bool      `json:"apply"`
	Rescale        bool      `json:"rescale"`
	RequeueAfterMs *int64    `json:"requeue_after_ms"`
	Waiting        *string   `json:"waiting"`
	SksMode        string    `json:"sks_mode"`
	Activators     uint32    `json:"activators"`
	ProbeActivator bool      `json:"probe_activator"`
	Active         string    `json:"active"`
	Steps          []KpaStep `json:"steps"`
}

// KpaStep is a KPA stage that changed the value (rate_limit, activation_scale, panic,
// panic_hold, scale_down_delay, min_scale, initial_scale, max_scale, scale_to_zero).
type KpaStep struct {
	Stage  string `json:"stage"`
	From   int32  `json:"from"`
	To     int32  `json:"to"`
	Reason string `json:"reason"`
}

// VerticalDecision is the vertical half of a decision: the recommendation, the requests and
// limits to set now per container that changes, and how each resource was coordinated with
// the HPA (the Rust `replicast::VerticalDecision`).
type VerticalDecision struct {
	Recommendation VerticalRecommendation `json:"recommendation"`
	Apply          []ContainerResources   `json:"apply"`
	Notes          []string               `json:"notes"`
}

// VerticalRecommendation is the VPA's recommendation per container and, when the current
// resources were given, the updater's priority for the pod.
type VerticalRecommendation struct {
	Containers []ContainerRecommendation `json:"containers"`
	Update     *UpdatePriority           `json:"update,omitempty"`
}

// ContainerRecommendation is one container's recommendation (the VPA status fields, the
// requests and limits to set, the confidence in days of history, and why).
type ContainerRecommendation struct {
	Container        string    `json:"container"`
	Target           Resources `json:"target"`
	LowerBound       Resources `json:"lower_bound"`
	UpperBound       Resources `json:"upper_bound"`
	UncappedTarget   Resources `json:"uncapped_target"`
	Requests         Resources `json:"requests"`
	Limits           Resources `json:"limits"`
	CPUConfidence    float64   `json:"cpu_confidence"`
	MemoryConfidence float64   `json:"memory_confidence"`
	Reasons          []string  `json:"reasons"`
	Annotations      []string  `json:"annotations,omitempty"`
}

// UpdatePriority is the VPA updater's view of a pod.
type UpdatePriority struct {
	OutsideRecommendedRange bool    `json:"outside_recommended_range"`
	ScaleUp                 bool    `json:"scale_up"`
	ResourceDiff            float64 `json:"resource_diff"`
}

// KedaStatus is KEDA's view of one decision: whether the ScaledObject is active, whether a
// trigger failed without a fallback to stand in, whether a fallback value is served, the
// formula's value, each trigger, and what fallback or the formula changed (the Rust
// `replicast::keda::KedaStatus`).
type KedaStatus struct {
	Active         bool            `json:"active"`
	Error          bool            `json:"error"`
	Fallback       bool            `json:"fallback"`
	CompositeValue *float64        `json:"composite_value,omitempty"`
	Triggers       []TriggerStatus `json:"triggers"`
	Notes          []string        `json:"notes,omitempty"`
}

// TriggerStatus is one KEDA trigger in a decision; Value is nil when it failed (or for
// cpu/memory triggers).
type TriggerStatus struct {
	Name     string   `json:"name"`
	Value    *float64 `json:"value"`
	Active   bool     `json:"active"`
	Failures uint32   `json:"failures"`
	Fallback bool     `json:"fallback"`
}

// Proposal is one source's proposal; Replicas is nil when the source failed.
type Proposal struct {
	Source   string  `json:"source"` // hpa, threshold, predictive, keda
	Name     string  `json:"name"`
	Replicas *uint32 `json:"replicas"`
	Reason   string  `json:"reason"`
}

// Step is a pipeline stage that changed the value.
type Step struct {
	Stage  string `json:"stage"` // bounds, combine, metric_failure, stabilization, rate_limit, min_max, cooldown, scale_from_zero, activation
	From   uint32 `json:"from"`
	To     uint32 `json:"to"`
	Reason string `json:"reason"`
}

// Condition is a Kubernetes HPA status condition.
type Condition struct {
	Type    string `json:"type"` // AbleToScale, ScalingActive, ScalingLimited, ScaledToZero
	Status  bool   `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}
