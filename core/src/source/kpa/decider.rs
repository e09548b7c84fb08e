//! The per-tick decision, Knative's `autoscaler.Scale(now)` (`specs/kpa.md` §5).

use serde::{Deserialize, Serialize};

use super::state::KpaState;
use super::window::MaxWindow;
use super::{Kpa, KpaAverages, KpaStage, KpaStep, MAX_OBSERVATION, TICK_INTERVAL_S};
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// One tick of the decider.
///
/// ```
/// use replicast::kpa::{KpaAverages, ScaleInput};
/// let input = ScaleInput {
///     now_ms: 1_700_000_000_000,
///     ready_pods: Some(2),
///     averages: Some(KpaAverages { stable: 150.0, panic: 160.0 }),
/// };
/// assert_eq!(input.ready_pods, Some(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleInput {
    /// The tick instant; never before the previous tick's.
    pub now_ms: Timestamp,
    /// Ready pods now (`R0`); `None` when they could not be counted (an error other than
    /// "not found", which is 0): the tick is then invalid.
    pub ready_pods: Option<u32>,
    /// The caller's stable and panic averages; `None`: the state's windows at `now_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub averages: Option<KpaAverages>,
}

/// Why a tick produced no decision (the previous one stays in place).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvalidReason {
    /// The stable window is empty (nothing recorded for a whole window).
    NoData,
    /// The ready pods could not be counted.
    PodCountUnavailable,
}

/// The decider's result for one tick.
///
/// `desired_pod_count` and `excess_burst_capacity` are `None` when the tick is invalid
/// (`invalid` says why); the state then keeps its previous decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleOutcome {
    /// Pods wanted (may be 0: a scale-to-zero candidate).
    pub desired_pod_count: Option<i32>,
    /// `floor(R0 × TotalValue − TBC − panic average)`, 0 with TBC 0, −1 with TBC −1.
    pub excess_burst_capacity: Option<i32>,
    /// Why the tick is invalid.
    pub invalid: Option<InvalidReason>,
    /// Whether the decider is in panic mode after this tick.
    pub panicking: bool,
    /// The stable and panic averages used.
    pub observed: Option<KpaAverages>,
    /// `ceil(stable / target)`, before any limit.
    pub stable_pods: Option<f64>,
    /// `ceil(panic / target)`, before any limit.
    pub panic_pods: Option<f64>,
    /// Every step that changed the value after `stable_pods`, in order.
    pub steps: Vec<KpaStep>,
}

impl ScaleOutcome {
    /// Whether the tick produced a decision.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.desired_pod_count.is_some()
    }

    fn invalid(reason: InvalidReason, panicking: bool, observed: Option<KpaAverages>) -> Self {
        Self {
            desired_pod_count: None,
            excess_burst_capacity: None,
            invalid: Some(reason),
            panicking,
            observed,
            stable_pods: None,
            panic_pods: None,
            steps: Vec::new(),
        }
    }
}

/// `x` as Go's `int32(x)` for the values the decider produces, saturating where Go's
/// conversion is undefined.
fn to_i32(x: f64) -> i32 {
    x as i32
}

pub(crate) fn check_averages(averages: &KpaAverages) -> Result<()> {
    for (field, v) in [("stable", averages.stable), ("panic", averages.panic)] {
        if !(0.0..=MAX_OBSERVATION).contains(&v) {
            return Err(Error::invalid_input(format!(
                "averages.{field} must be in [0, 1e15], got {v}"
            )));
        }
    }
    Ok(())
}

impl Kpa {
    pub(crate) fn check_scale_input(state: &KpaState, input: &ScaleInput) -> Result<()> {
        if let Some(last) = state.last_tick_ms
            && input.now_ms < last
        {
            return Err(Error::invalid_input(format!(
                "now_ms must not be before the previous tick's ({last}), got {}: ticks out of order",
                input.now_ms
            )));
        }
        if let Some(ready) = input.ready_pods {
            check_count("ready_pods", ready)?;
        }
        if let Some(averages) = &input.averages {
            check_averages(averages)?;
        }
        Ok(())
    }

    /// The decider's tick (`specs/kpa.md` §5): desired pods from the stable and panic
    /// averages, rate limits relative to the ready pods, activation scale, panic mode with its
    /// ratchet, the scale-down delay, and the excess burst capacity. A valid result is stored
    /// in `state` as the decision in effect; an invalid one (no data, no pod count) leaves the
    /// previous decision in place.
    ///
    /// ```
    /// use replicast::kpa::{Kpa, KpaAverages, KpaSpec, ScaleInput};
    /// let kpa = Kpa::new(KpaSpec::default()).unwrap(); // target 70 in-flight requests per pod
    /// let mut state = kpa.new_state(0, Some(1));
    /// let outcome = kpa.scale(&mut state, &ScaleInput {
    ///     now_ms: 2_000,
    ///     ready_pods: Some(1),
    ///     averages: Some(KpaAverages { stable: 200.0, panic: 210.0 }),
    /// }).unwrap();
    /// assert_eq!(outcome.desired_pod_count, Some(3)); // ceil(200 / 70)
    /// assert!(outcome.panicking); // ceil(210 / 70) = 3 >= 2 × 1 ready pod
    /// ```
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when `now_ms` is before the previous tick's, the
    /// ready pods exceed `i32::MAX`, or an average is outside `[0, 1e15]` (NaN, infinite, negative); `state` is
    /// then unchanged.
    pub fn scale(&self, state: &mut KpaState, input: &ScaleInput) -> Result<ScaleOutcome> {
        Self::check_scale_input(state, input)?;
        Ok(self.scale_checked(state, input))
    }

    pub(crate) fn scale_checked(&self, state: &mut KpaState, input: &ScaleInput) -> ScaleOutcome {
        let now = input.now_ms;
        self.sync_windows(state, now);
        state.last_tick_ms = Some(now);
        let observed = match input.averages {
            Some(averages) => Some(averages),
            None => self.window_averages(state, now),
        };
        let Some(ready) = input.ready_pods else {
            return ScaleOutcome::invalid(
                InvalidReason::PodCountUnavailable,
                state.panicking(),
                observed,
            );
        };
        let Some(KpaAverages {
            stable: observed_stable,
            panic: observed_panic,
        }) = observed
        else {
            return ScaleOutcome::invalid(InvalidReason::NoData, state.panicking(), None);
        };
        let spec = &self.spec;
        let mut steps = Vec::new();
        let ready_f = f64::from(ready);
        let ready_pods = ready_f.max(1.0);
        let max_up = (spec.max_scale_up_rate * ready_pods).ceil();
        let max_down = if spec.reachable {
            (ready_pods / spec.max_scale_down_rate).floor()
        } else {
            0.0
        };
        let dspc = (observed_stable / self.target_value).ceil();
        let dppc = (observed_panic / self.target_value).ceil();
        let mut stable = to_i32(dspc.max(max_down).min(max_up));
        let mut panic_desired = to_i32(dppc.max(max_down).min(max_up));
        if f64::from(stable) != dspc {
            let reason = if dspc > max_up {
                format!(
                    "scale-up rate limit: at most ceil({} x {ready_pods}) = {max_up} pods, not {dspc}",
                    spec.max_scale_up_rate
                )
            } else {
                format!(
                    "scale-down rate limit: at least floor({ready_pods} / {}) = {max_down} pods, not {dspc}",
                    spec.max_scale_down_rate
                )
            };
            steps.push(KpaStep::new(
                KpaStage::RateLimit,
                to_i32(dspc),
                stable,
                reason,
            ));
        }
        let activation = to_i32(f64::from(spec.activation_scale));
        if activation > 1 {
            if dspc > 0.0 && activation > stable {
                steps.push(KpaStep::new(
                    KpaStage::ActivationScale,
                    stable,
                    activation,
                    format!("activation scale: a non-zero scale is at least {activation}"),
                ));
                stable = activation;
            }
            if dppc > 0.0 && activation > panic_desired {
                panic_desired = activation;
            }
        }
        let over = dppc / ready_pods >= self.panic_threshold;
        let stable_window_ms = i64::from(spec.stable_window_s) * 1000;
        if over {
            // start panicking, or extend the panic
            state.panic_time_ms = Some(now);
        } else if state
            .panic_time_ms
            .is_some_and(|since| since.saturating_add(stable_window_ms) < now)
        {
            state.panic_time_ms = None;
            state.max_panic_pods = 0;
        }
        let mut desired = stable;
        if state.panicking() {
            if desired < panic_desired {
                steps.push(KpaStep::new(
                    KpaStage::Panic,
                    desired,
                    panic_desired,
                    format!(
                        "panic mode: the {} s panic window wants {panic_desired} pods ({observed_panic} / target {})",
                        self.panic_window_s, self.target_value
                    ),
                ));
                desired = panic_desired;
            }
            if desired > state.max_panic_pods {
                state.max_panic_pods = desired;
            } else if desired < state.max_panic_pods {
                steps.push(KpaStep::new(
                    KpaStage::PanicHold,
                    desired,
                    state.max_panic_pods,
                    format!(
                        "panic mode never scales down: holding {} pods",
                        state.max_panic_pods
                    ),
                ));
            }
            desired = state.max_panic_pods;
        }
        if spec.reachable
            && let Some(window) = state.delay.as_mut()
        {
            window.record(now, desired);
            let delayed = window.current();
            if delayed != desired {
                steps.push(KpaStep::new(
                    KpaStage::ScaleDownDelay,
                    desired,
                    delayed,
                    format!(
                        "scale-down delay: {delayed} pods were wanted within the last {} s",
                        spec.scale_down_delay_s
                    ),
                ));
                desired = delayed;
            }
        }
        let tbc = spec.target_burst_capacity;
        let ebc = if tbc == 0.0 {
            0.0
        } else if tbc > 0.0 {
            (ready_f * self.total_value - tbc - observed_panic).floor()
        } else {
            -1.0
        };
        let ebc = to_i32(ebc);
        state.desired_scale = desired;
        state.excess_burst_capacity = ebc;
        ScaleOutcome {
            desired_pod_count: Some(desired),
            excess_burst_capacity: Some(ebc),
            invalid: None,
            panicking: state.panicking(),
            observed: Some(KpaAverages {
                stable: observed_stable,
                panic: observed_panic,
            }),
            stable_pods: Some(dspc),
            panic_pods: Some(dppc),
            steps,
        }
    }

    /// Brings the state's windows to this spec's sizes (Knative resizes them when the metric's
    /// windows change) and creates, resizes or drops the scale-down-delay window.
    pub(crate) fn sync_windows(&self, state: &mut KpaState, now_ms: Timestamp) {
        state.stable.resize(self.spec.stable_window_s, now_ms);
        state.panic.resize(self.panic_window_s, now_ms);
        let delay = self.spec.scale_down_delay_s;
        match (&mut state.delay, delay) {
            (_, 0) => state.delay = None,
            (Some(window), d) => {
                if window.buckets() != d.div_ceil(TICK_INTERVAL_S) {
                    window.set_duration(d);
                }
            }
            (None, d) => state.delay = Some(MaxWindow::with_duration(d, TICK_INTERVAL_S)),
        }
    }

    /// The stable and panic averages of the state's windows at `now_ms`; `None` ("no data")
    /// when the stable window is empty and the pods are scraped (TBC ≠ −1; with TBC −1 Knative
    /// has no scrape target and an empty window averages to 0).
    pub(crate) fn window_averages(
        &self,
        state: &KpaState,
        now_ms: Timestamp,
    ) -> Option<KpaAverages> {
        if state.stable.is_empty(now_ms) && self.spec.target_burst_capacity != -1.0 {
            return None;
        }
        Some(KpaAverages {
            stable: state.stable.average(now_ms, self.spec.aggregation),
            panic: state.panic.average(now_ms, self.spec.aggregation),
        })
    }
}

/// Checks a pod count fits Knative's `int32`.
pub(crate) fn check_count(field: &str, value: u32) -> Result<()> {
    if value > i32::MAX as u32 {
        return Err(Error::invalid_input(format!(
            "{field} must be in [0, {}], got {value}",
            i32::MAX
        )));
    }
    Ok(())
}
