//! Knative's Pod Autoscaler (KPA), exactly: the concurrency/rps autoscaler of Knative Serving
//! with its stable and panic windows, panic mode, scale-down delay, and scale to zero
//! (`specs/kpa.md`; Knative Serving `knative-v1.23.0`).
//!
//! # Pipeline
//!
//! ```text
//! samples (time, revision-wide total)          caller averages
//!        │ Kpa::record                              │
//!        ▼                                          │
//! stable window (W s) + panic window (P s), 1 s buckets
//!        │ linear or weighted-exponential average   │
//!        ▼                                          ▼
//! Kpa::scale(now)  — the decider, once per 2 s tick: desired = ceil(avg / target), rate limits
//!        │            around the ready pods, activation scale, panic mode (never scale down,
//!        │            ratchet), scale-down-delay max window, excess burst capacity
//!        ▼
//! Kpa::reconcile   — min/max/initial scale, scale-to-zero state machine (Active → Inactive →
//!                    0 after the grace period), activator in or out of the request path,
//!                    activator count, the `Active` condition
//! ```
//!
//! [`Kpa::decide`] runs the three for one tick; each is public on its own, so a caller with its
//! own averages (e.g. from Prometheus) skips the windows, and a caller with its own decider
//! runs only the reconciler. A [`Kpa`] is a validated [`KpaSpec`]; all memory lives in a
//! [`KpaState`] that round-trips through JSON.
//!
//! # Exactness
//!
//! The windows, the decider and the reconciler follow upstream operation by operation so that
//! results are the same numbers, not just close: the linear average keeps the running total
//! upstream keeps (added and subtracted in its order) and rounds to 6 decimals; the weighted
//! average multiplies its weight down bucket by bucket; powers follow Go's `math.Pow`; the
//! decider converts to `int32` where Go does; the panic window is rounded as Go's
//! `Duration.Round`. Where upstream depends on wall-clock or object lifetime, this module takes
//! time as an input and keeps the memory in the state:
//!
//! * times are milliseconds; buckets are whole seconds, floor-divided, so times before 1970
//!   (e.g. Go's zero time, −62135596800 s) index correctly (Go truncates toward zero there);
//! * the windows are resized when a state meets a spec with other windows (upstream resizes on
//!   the metric's update); the scale-down-delay window follows the spec (upstream keeps the
//!   window it built when the decider was created, for the decider's lifetime);
//! * the ServerlessService and the activator are inputs: the caller may report how long the SKS
//!   has proxied and whether the activator probe succeeded; without them, the state's own
//!   record of proxy mode is used and the activator is assumed in the path.
//!
//! ```
//! use replicast::kpa::{Kpa, KpaInput, KpaSample, KpaSpec};
//!
//! let kpa = Kpa::new(KpaSpec::default()).unwrap(); // 70 in-flight requests per pod
//! let mut state = kpa.new_state(0, Some(1));
//! let mut last = None;
//! for tick in 1..=5 {
//!     let now_ms = tick * 2_000;
//!     let input = KpaInput {
//!         now_ms,
//!         ready_pods: Some(1),
//!         current_replicas: 1,
//!         // one scrape per second of 140 concurrent requests in total
//!         samples: vec![
//!             KpaSample { time_ms: now_ms - 1_000, value: 140.0 },
//!             KpaSample { time_ms: now_ms, value: 140.0 },
//!         ],
//!         ..KpaInput::default()
//!     };
//!     last = Some(kpa.decide(&mut state, &input).unwrap());
//! }
//! let decision = last.unwrap();
//! assert_eq!(decision.scale.desired_pod_count, Some(2)); // ceil(140 / 70)
//! assert!(decision.scale.panicking); // 2 pods wanted >= 2 × 1 ready
//! assert_eq!(decision.reconcile.unwrap().want, 2);
//! ```

mod decider;
mod duration;
mod reconciler;
mod spec;
mod state;
pub mod window;

use serde::{Deserialize, Serialize};

pub use decider::{InvalidReason, ScaleInput, ScaleOutcome};
pub use reconciler::{
    ACTIVATION_TIMEOUT_BUFFER_S, MIN_ACTIVATORS, ReconcileInput, ReconcileOutcome,
};
pub use spec::{Aggregation, KpaMetric, KpaSpec, TARGET_MIN};
pub use state::{ActiveReason, ActiveStatus, KPA_STATE_VERSION, KpaState, SksMode};
pub use window::RecordOutcome;

use crate::error::{Error, Result};
use crate::time::Timestamp;
use window::WindowAverager;

/// The largest observation (sample or average) accepted: 10^15, far beyond any real
/// revision-wide total, and small enough that no sum of samples in a window can overflow.
pub const MAX_OBSERVATION: f64 = 1e15;

/// The decider's tick interval, seconds (the scale-down-delay window's bucket size).
pub const TICK_INTERVAL_S: u32 = 2;

/// The stable and panic window averages of the revision-wide total.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpaAverages {
    /// The stable-window average.
    pub stable: f64,
    /// The panic-window average.
    pub panic: f64,
}

/// One scraped sample: the revision-wide total of the spec's metric (concurrency or rps) at
/// `time_ms`, with requests the activator proxied already subtracted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpaSample {
    /// When it was scraped.
    pub time_ms: Timestamp,
    /// The total, in `[0, 1e15]`.
    pub value: f64,
}

/// The stage of the KPA that changed the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KpaStage {
    /// The scale-up or scale-down rate limit around the ready pods.
    RateLimit,
    /// The activation scale raised a non-zero value.
    ActivationScale,
    /// Panic mode took the panic window's larger value.
    Panic,
    /// Panic mode refused to scale down.
    PanicHold,
    /// The scale-down delay kept a recent larger value.
    ScaleDownDelay,
    /// `min_scale` raised the value.
    MinScale,
    /// The initial scale, not yet reached, raised the value.
    InitialScale,
    /// `max_scale` lowered the value.
    MaxScale,
    /// The scale-to-zero rules replaced 0.
    ScaleToZero,
}

/// One step that changed the value, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpaStep {
    /// The stage.
    pub stage: KpaStage,
    /// The value before it.
    pub from: i32,
    /// The value after it.
    pub to: i32,
    /// Why, for people.
    pub reason: String,
}

impl KpaStep {
    pub(crate) fn new(stage: KpaStage, from: i32, to: i32, reason: String) -> Self {
        Self {
            stage,
            from,
            to,
            reason,
        }
    }
}

/// Everything observed for one revision at one tick, for [`Kpa::decide`].
///
/// | field | meaning |
/// | --- | --- |
/// | `now_ms` | the tick instant; never before the previous tick's |
/// | `ready_pods` | ready pods; `None` when they could not be counted (the decider's tick is invalid, the reconciler does not run) |
/// | `current_replicas` | the scale target's replicas now |
/// | `samples` | samples since the previous tick, ascending, none after `now_ms`; recorded into the windows |
/// | `averages` | instead of `samples`: the caller's own stable and panic averages |
/// | `sks_proxy_since_ms` | since when the SKS has proxied (see [`ReconcileInput`]) |
/// | `activator_in_path` | the activator probe's result (see [`ReconcileInput`]) |
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpaInput {
    /// The tick instant.
    pub now_ms: Timestamp,
    /// Ready pods (`None`: could not be counted).
    pub ready_pods: Option<u32>,
    /// The scale target's replicas now.
    pub current_replicas: u32,
    /// Samples to record before deciding, ascending, none after `now_ms`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<KpaSample>,
    /// The caller's averages (exclusive with `samples`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub averages: Option<KpaAverages>,
    /// Since when the ServerlessService has proxied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sks_proxy_since_ms: Option<Timestamp>,
    /// The activator probe's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activator_in_path: Option<bool>,
}

/// What one [`crate::DecisionInput`] carries for a scaler with a `kpa` source: the tick's
/// samples or the caller's averages, and what the caller knows of the ServerlessService and
/// the activator (the instant, ready pods and replicas are the decision input's own).
///
/// ```
/// use replicast::kpa::KpaObservation;
/// let o: KpaObservation = serde_json::from_str(r#"{"averages": {"stable": 120.0, "panic": 150.0}}"#).unwrap();
/// assert_eq!(o.averages.unwrap().panic, 150.0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpaObservation {
    /// Samples since the previous decision, ascending, none after `now_ms`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<KpaSample>,
    /// The caller's own stable and panic averages (exclusive with `samples`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub averages: Option<KpaAverages>,
    /// Since when the ServerlessService has proxied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sks_proxy_since_ms: Option<Timestamp>,
    /// The activator probe's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activator_in_path: Option<bool>,
}

impl KpaObservation {
    /// The tick input for a revision with `ready_pods` ready pods and `current_replicas`.
    #[must_use]
    pub fn at(&self, now_ms: Timestamp, ready_pods: u32, current_replicas: u32) -> KpaInput {
        KpaInput {
            now_ms,
            ready_pods: Some(ready_pods),
            current_replicas,
            samples: self.samples.clone(),
            averages: self.averages,
            sks_proxy_since_ms: self.sks_proxy_since_ms,
            activator_in_path: self.activator_in_path,
        }
    }
}

/// One tick's result: the decider's and the reconciler's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpaDecision {
    /// The decider's tick.
    pub scale: ScaleOutcome,
    /// The reconcile (absent when the ready pods could not be counted).
    pub reconcile: Option<ReconcileOutcome>,
}

/// A validated KPA: a [`KpaSpec`] with its derived values (target, total, panic window,
/// threshold). Immutable and `Send + Sync`; each revision has its own [`KpaState`].
///
/// ```
/// use replicast::kpa::{Kpa, KpaSpec};
/// let kpa = Kpa::new(KpaSpec::default()).unwrap();
/// assert_eq!((kpa.target_value(), kpa.total_value()), (70.0, 100.0));
/// assert_eq!(kpa.panic_window_s(), 6);
/// assert_eq!(kpa.panic_threshold(), 2.0);
/// let err = Kpa::new(KpaSpec { stable_window_s: 5, ..KpaSpec::default() }).unwrap_err();
/// assert_eq!(err.to_string(), "invalid_config: stable_window_s must be in [6, 3600], got 5");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Kpa {
    spec: KpaSpec,
    target_value: f64,
    total_value: f64,
    panic_threshold: f64,
    panic_window_s: u32,
    grace_ms: i64,
    retention_ms: i64,
    activation_timeout_ms: i64,
}

fn seconds_to_ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

impl Kpa {
    /// Validates `spec` and derives its values.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the first invalid field.
    pub fn new(spec: KpaSpec) -> Result<Self> {
        spec.validate()?;
        let (target_value, total_value) = spec.resolve_target();
        Ok(Self {
            target_value,
            total_value,
            panic_threshold: spec.panic_threshold_percentage / 100.0,
            panic_window_s: spec.panic_window_s(),
            grace_ms: seconds_to_ms(spec.scale_to_zero_grace_period_s),
            retention_ms: seconds_to_ms(spec.scale_to_zero_pod_retention_period_s),
            activation_timeout_ms: seconds_to_ms(spec.progress_deadline_s)
                .saturating_add(reconciler::ACTIVATION_TIMEOUT_BUFFER_S * 1000),
            spec,
        })
    }

    /// The spec.
    #[must_use]
    pub fn spec(&self) -> &KpaSpec {
        &self.spec
    }

    /// The per-pod target (`TargetValue`).
    #[must_use]
    pub fn target_value(&self) -> f64 {
        self.target_value
    }

    /// The per-pod total (`TotalValue`), for the excess burst capacity.
    #[must_use]
    pub fn total_value(&self) -> f64 {
        self.total_value
    }

    /// `panic_threshold_percentage / 100`.
    #[must_use]
    pub fn panic_threshold(&self) -> f64 {
        self.panic_threshold
    }

    /// The panic window, seconds.
    #[must_use]
    pub fn panic_window_s(&self) -> u32 {
        self.panic_window_s
    }

    /// The state of a decider created at `now_ms` with `ready_pods_at_creation` ready pods
    /// (`None`: they could not be counted, as on a new revision). With more than one ready pod
    /// it starts in panic mode holding that many pods, so a restart does not scale down before
    /// a stable window of data says it is safe. The `Active` condition starts `Activating`,
    /// the SKS in proxy mode, the decision unknown (−1).
    #[must_use]
    pub fn new_state(&self, now_ms: Timestamp, ready_pods_at_creation: Option<u32>) -> KpaState {
        let ready = ready_pods_at_creation.map_or(0, |r| r.min(i32::MAX as u32) as i32);
        let tbc = self.spec.target_burst_capacity;
        let ebc = if tbc == -1.0 || tbc == 0.0 {
            tbc as i32
        } else {
            (f64::from(self.spec.initial_scale) * self.total_value - tbc) as i32
        };
        let mut state = KpaState {
            version: KPA_STATE_VERSION,
            stable: WindowAverager::with_len(self.spec.stable_window_s),
            panic: WindowAverager::with_len(self.panic_window_s),
            panic_time_ms: (ready > 1).then_some(now_ms),
            max_panic_pods: ready,
            delay: None,
            last_tick_ms: None,
            desired_scale: -1,
            excess_burst_capacity: ebc,
            active: ActiveStatus::Activating,
            active_reason: ActiveReason::None,
            active_since_ms: now_ms,
            scale_target_initialized: false,
            sks_mode: SksMode::Proxy,
            sks_proxy_since_ms: Some(now_ms),
        };
        self.sync_windows(&mut state, now_ms);
        state
    }

    /// Records one sample (the revision-wide total at `time_ms`) into the stable and panic
    /// windows. Samples in one second add up; a sample older than the newest minus a window is
    /// ignored ([`RecordOutcome::TooOld`], per window: the stable one answers).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when `value` is outside `[0, 1e15]` (NaN, infinite, negative); `state` is
    /// then unchanged.
    pub fn record(
        &self,
        state: &mut KpaState,
        time_ms: Timestamp,
        value: f64,
    ) -> Result<RecordOutcome> {
        check_sample_value(value)?;
        self.sync_windows(state, time_ms);
        state.panic.record_unchecked(time_ms, value);
        Ok(state.stable.record_unchecked(time_ms, value))
    }

    /// The stable and panic averages the state's windows give at `now_ms`; `None` when there
    /// is no data (the stable window is empty, and TBC ≠ −1).
    #[must_use]
    pub fn averages(&self, state: &KpaState, now_ms: Timestamp) -> Option<KpaAverages> {
        let sized = state.stable.window_s() == self.spec.stable_window_s
            && state.panic.window_s() == self.panic_window_s;
        if sized {
            self.window_averages(state, now_ms)
        } else {
            let mut resized = state.clone();
            self.sync_windows(&mut resized, now_ms);
            self.window_averages(&resized, now_ms)
        }
    }

    /// One tick: records `input.samples`, runs the decider ([`Kpa::scale`]) and, when the ready
    /// pods are known, the reconciler ([`Kpa::reconcile`]) on the decision in effect.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for a sample or average outside `[0, 1e15]` (NaN,
    /// infinite, negative), samples out of order or after `now_ms`, both samples and averages,
    /// a tick before the previous one, or a count above `i32::MAX`; `state` is then unchanged.
    pub fn decide(&self, state: &mut KpaState, input: &KpaInput) -> Result<KpaDecision> {
        Self::check(state, input)?;
        // everything that can fail was checked: from here on the state changes
        let scale = self.tick(state, input);
        let reconcile = self.reconcile_tick(state, input, None);
        Ok(KpaDecision { scale, reconcile })
    }

    /// Everything [`Kpa::decide`] refuses, without changing anything.
    pub(crate) fn check(state: &KpaState, input: &KpaInput) -> Result<()> {
        if !input.samples.is_empty() && input.averages.is_some() {
            return Err(Error::invalid_input(
                "samples and averages are exclusive: give one or the other",
            ));
        }
        let mut previous: Option<Timestamp> = None;
        for (i, sample) in input.samples.iter().enumerate() {
            check_sample_value(sample.value).map_err(|e| e.context(format!("samples[{i}]")))?;
            if previous.is_some_and(|p| sample.time_ms < p) {
                return Err(Error::invalid_input(format!(
                    "samples[{i}].time_ms must not be before the previous sample's, got {}: samples out of order",
                    sample.time_ms
                )));
            }
            if sample.time_ms > input.now_ms {
                return Err(Error::invalid_input(format!(
                    "samples[{i}].time_ms must be <= now_ms ({}), got {}",
                    input.now_ms, sample.time_ms
                )));
            }
            previous = Some(sample.time_ms);
        }
        Self::check_scale_input(state, &Self::scale_input(input))?;
        if let Some(r) = Self::reconcile_input(input, None) {
            Self::check_reconcile_input(&r)?;
        }
        Ok(())
    }

    /// Records the tick's samples and runs the decider; `input` was [`Kpa::check`]ed.
    pub(crate) fn tick(&self, state: &mut KpaState, input: &KpaInput) -> ScaleOutcome {
        for sample in &input.samples {
            self.sync_windows(state, sample.time_ms);
            state.panic.record_unchecked(sample.time_ms, sample.value);
            state.stable.record_unchecked(sample.time_ms, sample.value);
        }
        self.scale_checked(state, &Self::scale_input(input))
    }

    /// The reconciler on `desired_scale` (`None`: the decider's decision), when the ready pods
    /// are known; `input` was [`Kpa::check`]ed.
    pub(crate) fn reconcile_tick(
        &self,
        state: &mut KpaState,
        input: &KpaInput,
        desired_scale: Option<i32>,
    ) -> Option<ReconcileOutcome> {
        Self::reconcile_input(input, desired_scale).map(|r| self.reconcile_checked(state, &r))
    }

    fn scale_input(input: &KpaInput) -> ScaleInput {
        ScaleInput {
            now_ms: input.now_ms,
            ready_pods: input.ready_pods,
            averages: input.averages,
        }
    }

    fn reconcile_input(input: &KpaInput, desired_scale: Option<i32>) -> Option<ReconcileInput> {
        input.ready_pods.map(|ready_pods| ReconcileInput {
            now_ms: input.now_ms,
            ready_pods,
            current_replicas: input.current_replicas,
            desired_scale,
            excess_burst_capacity: None,
            sks_proxy_since_ms: input.sks_proxy_since_ms,
            activator_in_path: input.activator_in_path,
        })
    }
}

pub(crate) fn check_sample_value(value: f64) -> Result<()> {
    if (0.0..=MAX_OBSERVATION).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "sample value must be in [0, 1e15], got {value}"
        )))
    }
}

/// How many pods the scraper samples out of `ready_pods` (Knative's `populationMeanSampleSize`,
/// 95 % confidence, 5 % error): all of them up to 3, else `ceil(N·X / (N + X − 1))` with
/// `X = 15.3664` (5 → 4, 10 → 7, 100 → 14, 1000 → 16). The scraper averages the sampled pods
/// and multiplies by the ready pods to get the revision-wide total a [`KpaSample`] carries.
///
/// ```
/// use replicast::kpa::scrape_sample_size;
/// assert_eq!(scrape_sample_size(3), 3);
/// assert_eq!(scrape_sample_size(100), 14);
/// ```
#[must_use]
pub fn scrape_sample_size(ready_pods: u32) -> u32 {
    /// 1.96² × 100 / 5², evaluated exactly as Go's constant arithmetic does.
    const SAMPLE_SIZE: f64 = 15.3664;
    let n = f64::from(ready_pods);
    if ready_pods <= 3 {
        return ready_pods;
    }
    (n * SAMPLE_SIZE / (n + SAMPLE_SIZE - 1.0)).ceil() as u32
}
