//! The Kubernetes Vertical Pod Autoscaler's recommender, exactly (`specs/vpa.md`), as a pure
//! library: observations in, CPU / memory requests (and limits) out, with the reasons.
//!
//! # Pipeline
//!
//! ```text
//! CPU sample (millicores, start time) ─► per-pod order check ─► decaying CPU histogram (cores, weight 0.1)
//! memory sample (bytes)               ─► per-pod peak of the aggregation interval (24 h)
//!                                        ─► decaying memory histogram (one peak per pod and interval,
//!                                           stamped at the interval's END, weight 1)
//! OOM (time, requested bytes)         ─► synthetic peak max(used + 100 MiB, used × 1.2)
//!
//! recommend(now): per container name (mode ≠ Off, not expired)
//!   percentile (bucket upper edge) → amount (truncate) → +15 % margin (truncate)
//!   → confidence multiplier on the bounds: upper × (1 + 1/c), lower × (1 + 0.001/c)^-2 (truncate)
//!   → max(·, per-pod minimum / number of containers)
//!   → controlledResources filter → output rounding → integer-CPU (opt-in)
//!   → minAllowed / maxAllowed (+ global max)                  = VPA status {target, lower, upper, uncapped}
//!   → with the pod's current resources: RequestsOnly capping to limits, proportional limits
//!     (RequestsAndLimits), and the updater's priority (resourceDiff, outside range, scale up)
//! ```
//!
//! # Exactness
//!
//! Every number is computed as upstream computes it on linux/amd64, bit for bit:
//!
//! * amounts are `i64` millicores / bytes, and **every** stage truncates toward zero
//!   (`ScaleResource`), with upstream's clamping to [0, 1e14];
//! * percentiles are bucket boundaries, computed with Go's own `math.Pow` / `math.Log` /
//!   `math.Exp2` algorithms (C's libm differs from Go in the last bit for most bucket starts;
//!   see `gomath`), so bucket search and edges match upstream, not a correctly rounded ideal;
//! * durations are Go nanosecond `Duration`s (saturating at ±292 years), the decay reference
//!   moves with Go's `Time.Round` counted from year 1 (UTC midnight for 24 h), memory windows
//!   advance with `Duration.Truncate`;
//! * proportional limits use exact integer arithmetic (`i128`), `i64::MAX` with an
//!   annotation on overflow.
//!
//! Where upstream is undefined, replicast defines: `0 × ∞` (an empty histogram with no
//! history) is 0 before the per-pod minimum (Go yields `MinInt64`, which the minimum hides);
//! Go's `int(x)` of an out-of-range float follows amd64 (`MinInt64`); a NaN or infinite
//! observation is an [`crate::ErrorKind::InvalidInput`] error, while a negative, duplicate or
//! out-of-order sample is discarded and reported (`Ok(false)`), as upstream discards it.
//!
//! # Differences from upstream
//!
//! * OOM staleness follows main after v1.7.1 (spec §6.4): an OOM is dropped when older than
//!   the pod's last **memory sample** minus one interval (v1.7.1 measured from the window end).
//! * One [`VpaState`] is one workload: upstream's aggregation key (namespace, container name,
//!   pod labels) is the container name, and pods are told apart by the `pod` argument.
//! * The recommendation skips containers that are expired at `now_ms` (upstream's hourly
//!   garbage collection removes them up to an hour later).
//! * Checkpoint times are written with milliseconds when they have any (Kubernetes writes whole
//!   seconds; both parse). LimitRange capping is not modelled beyond a default limit per
//!   container ([`ContainerResources::default_limits`]).
//! * Per-VPA percentiles, margin, half-lives, confidence intervals and minimums
//!   ([`RecommenderConfig`]) are replicast's per-workload tuning (upstream: cluster flags; the
//!   per-VPA OOM and interval fields are honoured as if `PerVPAConfig` were on).
//!
//! # Example
//!
//! ```
//! use replicast::vpa::{ContainerUsage, Vpa, VpaSpec, VpaState};
//! let vpa = Vpa::new(VpaSpec::default()).unwrap();
//! let mut state = VpaState::new();
//! let t0 = 1_704_067_200_000; // 2024-01-01T00:00:00Z
//! for minute in 0..24 * 60 {
//!     let now = t0 + minute * 60_000;
//!     let usage = [ContainerUsage {
//!         container: "app".into(),
//!         cpu_cores: Some(0.5),
//!         memory_bytes: Some(524_288_000.0),
//!         ..Default::default()
//!     }];
//!     state.observe(&vpa, now, &usage).unwrap();
//! }
//! let rec = vpa.recommend(&state, t0 + 86_400_000, &[]).unwrap();
//! let app = rec.container("app").unwrap();
//! assert_eq!(app.target.cpu_millicores, Some(587));
//! assert_eq!(app.target.memory_bytes, Some(628_694_953));
//! assert_eq!(app.upper_bound.cpu_millicores, Some(1174));
//! ```

pub mod capping;
pub mod checkpoint;
pub mod container;
pub mod decaying;
mod engine;
pub mod estimator;
mod gomath;
mod gotime;
pub mod histogram;
mod spec;
mod state;
pub mod updater;

pub use checkpoint::{CheckpointStatus, HistogramCheckpoint, VerticalPodAutoscalerCheckpoint};
pub use engine::{ContainerRecommendation, ContainerResources, VerticalRecommendation, Vpa};
pub use spec::{
    ContainerPolicy, ControlledValues, MAX_CONTAINER_POLICIES, RecommenderConfig, Resource,
    Resources, ScalingMode, UpdateMode, UpdaterConfig, VpaSpec,
};
pub use state::{
    ContainerUsage, MAX_CONTAINERS, MAX_PODS_PER_CONTAINER, Observed, VPA_STATE_VERSION, VpaState,
};
pub use updater::{UpdatePriority, UpdateVerdict};

/// `RFC 3339` helpers for callers translating Kubernetes times (`metav1.Time`).
pub mod time {
    /// Parses an RFC 3339 time (`"2024-01-01T00:00:00Z"`) to Unix milliseconds.
    #[must_use]
    pub fn parse_rfc3339(text: &str) -> Option<i64> {
        super::gotime::parse_rfc3339(text)
    }

    /// Formats Unix milliseconds as RFC 3339 in UTC with whole seconds, as Kubernetes does.
    #[must_use]
    pub fn format_rfc3339(t_ms: i64) -> String {
        super::gotime::format_rfc3339(t_ms)
    }
}
