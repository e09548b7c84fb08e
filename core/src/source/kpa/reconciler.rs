//! The KPA reconciler around the decision (`specs/kpa.md` §6): min/max and initial scale, the
//! scale-to-zero state machine, the activator's place in the request path, and the `Active`
//! condition that drives the state machine.

use serde::{Deserialize, Serialize};

use super::decider::check_count;
use super::state::{ActiveReason, ActiveStatus, KpaState, SksMode};
use super::{Kpa, KpaStage, KpaStep};
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// Knative's margin after the progress deadline before a stuck activation scales to zero.
pub const ACTIVATION_TIMEOUT_BUFFER_S: i64 = 30;

/// The fewest activators Knative runs for a revision.
pub const MIN_ACTIVATORS: u32 = 2;

/// One reconcile of the PodAutoscaler.
///
/// ```
/// use replicast::kpa::ReconcileInput;
/// let input = ReconcileInput { now_ms: 60_000, ready_pods: 2, current_replicas: 2, ..ReconcileInput::default() };
/// assert_eq!(input.desired_scale, None); // the decider's last decision
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileInput {
    /// The reconcile instant.
    pub now_ms: Timestamp,
    /// Ready pods of the revision.
    pub ready_pods: u32,
    /// The scale target's replicas now (`spec.replicas`).
    pub current_replicas: u32,
    /// The desired scale to bound (−1: unknown); `None`: the decider's last valid decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_scale: Option<i32>,
    /// The excess burst capacity; `None`: the decider's last valid value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excess_burst_capacity: Option<i32>,
    /// Since when the ServerlessService has been in proxy mode with activator endpoints, as
    /// the caller observes it; `None`: since this state's reconciles first asked for proxy
    /// mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sks_proxy_since_ms: Option<Timestamp>,
    /// The caller's probe of the activator in the request path; `None`: assumed in the path
    /// (a caller without an activator). Not consulted with TBC −1 (always in the path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activator_in_path: Option<bool>,
}

/// The reconciler's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconcileOutcome {
    /// The decider's desired scale this reconcile started from.
    pub desired_scale: i32,
    /// The scale wanted after bounds and the scale-to-zero rules (−1: unknown).
    pub want: i32,
    /// Whether `want` is to be applied to the scale target.
    pub apply: bool,
    /// Whether applying changes the scale target (`apply` and `want != current_replicas`).
    pub rescale: bool,
    /// Reconcile again after this long, ms (a grace period, retention or activation timeout
    /// running).
    pub requeue_after_ms: Option<i64>,
    /// Why `want` is not applied yet, when it is not.
    pub waiting: Option<String>,
    /// The ServerlessService mode: serve only when `want > 0` and the excess burst capacity is
    /// `>= 0`.
    pub sks_mode: SksMode,
    /// Activators for the revision ([`Kpa::activator_count`]).
    pub activators: u32,
    /// Whether to (re)start the asynchronous activator probe (the activator is not yet in the
    /// path, so the revision cannot go to zero).
    pub probe_activator: bool,
    /// The `Active` condition after this reconcile.
    pub active: ActiveStatus,
    /// Every step that changed the value, in order.
    pub steps: Vec<KpaStep>,
}

/// What the scale-to-zero rules decided.
struct ZeroRule {
    want: i32,
    apply: bool,
    requeue_after_ms: Option<i64>,
    waiting: Option<String>,
    probe: bool,
}

impl ZeroRule {
    fn apply(want: i32) -> Self {
        Self {
            want,
            apply: true,
            requeue_after_ms: None,
            waiting: None,
            probe: false,
        }
    }

    fn wait(want: i32, requeue_after_ms: Option<i64>, why: String) -> Self {
        Self {
            want,
            apply: false,
            requeue_after_ms,
            waiting: Some(why),
            probe: false,
        }
    }
}

fn secs(ms: i64) -> String {
    format!("{} s", ms as f64 / 1000.0)
}

impl Kpa {
    /// The activators Knative runs for the revision: `max(2, ceil((R0 × TotalValue +
    /// max(TBC, 0)) / activator_capacity))`, 2 with TBC 0.
    ///
    /// ```
    /// use replicast::kpa::{Kpa, KpaSpec};
    /// let kpa = Kpa::new(KpaSpec::default()).unwrap();
    /// assert_eq!(kpa.activator_count(0), 3); // ceil(211 / 100)
    /// assert_eq!(kpa.activator_count(10), 13); // ceil((1000 + 211) / 100)
    /// ```
    #[must_use]
    pub fn activator_count(&self, ready_pods: u32) -> u32 {
        let tbc = self.spec.target_burst_capacity;
        if tbc == 0.0 {
            return MIN_ACTIVATORS;
        }
        let mut capacity = f64::from(ready_pods) * self.total_value;
        if tbc > 0.0 {
            capacity += tbc;
        }
        (capacity / self.spec.activator_capacity)
            .ceil()
            .max(f64::from(MIN_ACTIVATORS)) as u32
    }

    pub(crate) fn check_reconcile_input(input: &ReconcileInput) -> Result<()> {
        check_count("ready_pods", input.ready_pods)?;
        check_count("current_replicas", input.current_replicas)?;
        if let Some(d) = input.desired_scale
            && d < -1
        {
            return Err(Error::invalid_input(format!(
                "desired_scale must be -1 (unknown) or >= 0, got {d}"
            )));
        }
        Ok(())
    }

    /// The reconciler (`specs/kpa.md` §6): bounds the decider's desired scale by min/max
    /// (min only while reachable) and, until it was once reached, the initial scale; runs the
    /// scale-to-zero state machine (Activating → timeout after progress deadline + 30 s;
    /// Active → 1 until a stable window has passed, then Inactive; Inactive → 0 after the grace
    /// period, cut short by the time already proxied, and not before the pod retention period,
    /// only with the activator in the path); picks the ServerlessService mode and the activator
    /// count; and updates the `Active` condition.
    ///
    /// ```
    /// use replicast::kpa::{ActiveStatus, Kpa, KpaSpec, ReconcileInput};
    /// let kpa = Kpa::new(KpaSpec { min_scale: 2, ..KpaSpec::default() }).unwrap();
    /// let mut state = kpa.new_state(0, Some(1)).with_decision(1, 0);
    /// let out = kpa.reconcile(&mut state, &ReconcileInput {
    ///     now_ms: 2_000, ready_pods: 1, current_replicas: 1, ..ReconcileInput::default()
    /// }).unwrap();
    /// assert_eq!((out.want, out.rescale), (2, true)); // raised to min_scale
    /// assert_eq!(out.active, ActiveStatus::Activating); // 1 ready < 2 wanted
    /// ```
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when a count exceeds `i32::MAX` or `desired_scale`
    /// is below −1; `state` is then unchanged.
    pub fn reconcile(
        &self,
        state: &mut KpaState,
        input: &ReconcileInput,
    ) -> Result<ReconcileOutcome> {
        Self::check_reconcile_input(input)?;
        Ok(self.reconcile_checked(state, input))
    }

    pub(crate) fn reconcile_checked(
        &self,
        state: &mut KpaState,
        input: &ReconcileInput,
    ) -> ReconcileOutcome {
        let spec = &self.spec;
        let now = input.now_ms;
        let desired_scale = input.desired_scale.unwrap_or(state.desired_scale);
        let ebc = input
            .excess_burst_capacity
            .unwrap_or(state.excess_burst_capacity);
        let mut steps = Vec::new();
        let min_scale = if spec.reachable {
            spec.min_scale as i32
        } else {
            0
        };
        let max_scale = spec.max_scale as i32;
        let initial_scale = spec.initial_scale as i32;

        let rule = if desired_scale < 0 && state.active != ActiveStatus::Activating {
            ZeroRule::wait(
                desired_scale,
                None,
                "no metrics yet: the desired scale is unknown".to_owned(),
            )
        } else {
            let mut lower = min_scale;
            let mut lower_stage = KpaStage::MinScale;
            if initial_scale > 1
                && !state.scale_target_initialized
                && spec.reachable
                && initial_scale > lower
            {
                lower = initial_scale;
                lower_stage = KpaStage::InitialScale;
            }
            let mut desired = desired_scale;
            if desired < lower {
                let reason = match lower_stage {
                    KpaStage::InitialScale => format!(
                        "initial scale {initial_scale} not reached yet: at least {initial_scale}"
                    ),
                    _ => format!("min scale: at least {lower}"),
                };
                steps.push(KpaStep::new(lower_stage, desired, lower, reason));
                desired = lower;
            } else if max_scale != 0 && desired > max_scale {
                steps.push(KpaStep::new(
                    KpaStage::MaxScale,
                    desired,
                    max_scale,
                    format!("max scale: at most {max_scale}"),
                ));
                desired = max_scale;
            }
            self.scale_to_zero(state, desired, input, &mut steps)
        };

        let current = i32::try_from(input.current_replicas).unwrap_or(i32::MAX);
        let rescale = rule.apply && rule.want != current;
        let sks_mode = if rule.want > 0 && ebc >= 0 {
            SksMode::Serve
        } else {
            SksMode::Proxy
        };
        match sks_mode {
            SksMode::Proxy => {
                if state.sks_mode != SksMode::Proxy || state.sks_proxy_since_ms.is_none() {
                    state.sks_proxy_since_ms = Some(now);
                }
            }
            SksMode::Serve => state.sks_proxy_since_ms = None,
        }
        state.sks_mode = sks_mode;
        self.update_active(state, rule.want, input.ready_pods, now);

        ReconcileOutcome {
            desired_scale,
            want: rule.want,
            apply: rule.apply,
            rescale,
            requeue_after_ms: rule.requeue_after_ms,
            waiting: rule.waiting,
            sks_mode,
            activators: self.activator_count(input.ready_pods),
            probe_activator: rule.probe,
            active: state.active,
            steps,
        }
    }

    /// Knative's `handleScaleToZero`: only a desired scale of exactly 0 is held back.
    fn scale_to_zero(
        &self,
        state: &KpaState,
        desired: i32,
        input: &ReconcileInput,
        steps: &mut Vec<KpaStep>,
    ) -> ZeroRule {
        if desired != 0 {
            return ZeroRule::apply(desired);
        }
        let spec = &self.spec;
        let now = input.now_ms;
        if !spec.enable_scale_to_zero {
            steps.push(KpaStep::new(
                KpaStage::ScaleToZero,
                0,
                1,
                "scale to zero is disabled: 1 instead of 0".to_owned(),
            ));
            return ZeroRule::apply(1);
        }
        let in_status_for = now.saturating_sub(state.active_since_ms);
        match state.active {
            ActiveStatus::Activating => {
                if in_status_for > self.activation_timeout_ms {
                    ZeroRule::apply(0)
                } else {
                    ZeroRule::wait(
                        -1,
                        Some(self.activation_timeout_ms),
                        format!(
                            "activating for {}: scale to zero only after the activation timeout of {}",
                            secs(in_status_for),
                            secs(self.activation_timeout_ms)
                        ),
                    )
                }
            }
            ActiveStatus::Active => {
                let stable_window_ms = i64::from(spec.stable_window_s) * 1000;
                if in_status_for >= stable_window_ms {
                    let requeue = (state.sks_mode == SksMode::Proxy).then_some(3_000);
                    ZeroRule::wait(
                        0,
                        requeue,
                        format!(
                            "active for {} >= the stable window: marking the revision inactive first",
                            secs(in_status_for)
                        ),
                    )
                } else {
                    steps.push(KpaStep::new(
                        KpaStage::ScaleToZero,
                        0,
                        1,
                        format!(
                            "active for only {} < the {} s stable window: 1 until it has passed",
                            secs(in_status_for),
                            spec.stable_window_s
                        ),
                    ));
                    ZeroRule {
                        requeue_after_ms: Some(stable_window_ms - in_status_for),
                        ..ZeroRule::apply(1)
                    }
                }
            }
            ActiveStatus::Inactive => {
                let in_path =
                    spec.target_burst_capacity == -1.0 || input.activator_in_path.unwrap_or(true);
                if !in_path {
                    return ZeroRule {
                        probe: true,
                        ..ZeroRule::wait(
                            0,
                            None,
                            "the activator is not in the request path yet: probing it".to_owned(),
                        )
                    };
                }
                let retention = if spec.reachable { self.retention_ms } else { 0 };
                if in_status_for >= self.grace_ms.max(retention) {
                    return ZeroRule::apply(0);
                }
                if retention > 0 && in_status_for < retention {
                    return ZeroRule::wait(
                        0,
                        Some(retention - in_status_for),
                        format!(
                            "inactive for {} < the pod retention period of {}",
                            secs(in_status_for),
                            secs(retention)
                        ),
                    );
                }
                let proxy_since = input.sks_proxy_since_ms.or(match state.sks_mode {
                    SksMode::Proxy => state.sks_proxy_since_ms,
                    SksMode::Serve => None,
                });
                let proxy_for = proxy_since.map_or(0, |since| now.saturating_sub(since).max(0));
                let left = self.grace_ms - proxy_for;
                if left <= 0 {
                    ZeroRule::apply(0)
                } else {
                    ZeroRule::wait(
                        0,
                        Some(left),
                        format!(
                            "the activator has been in the path for {} < the grace period of {}",
                            secs(proxy_for),
                            secs(self.grace_ms)
                        ),
                    )
                }
            }
        }
    }

    /// Knative's `computeActiveCondition`, and `ScaleTargetInitialized` once the ready pods
    /// reach the activation threshold.
    fn update_active(&self, state: &mut KpaState, want: i32, ready: u32, now: Timestamp) {
        let spec = &self.spec;
        let min = if spec.reachable {
            i64::from(spec.min_scale)
        } else {
            0
        };
        let min_ready = if state.scale_target_initialized {
            min.max(1)
        } else {
            min.max(i64::from(spec.initial_scale))
        };
        let ready = i64::from(ready);
        if ready >= min_ready {
            state.scale_target_initialized = true;
        }
        let inactive = state.active == ActiveStatus::Inactive;
        let next = if want == 0 || min_ready == 0 {
            if state.active == ActiveStatus::Activating && min_ready > 0 {
                Some((ActiveStatus::Inactive, ActiveReason::TimedOut))
            } else {
                Some((ActiveStatus::Inactive, ActiveReason::NoTraffic))
            }
        } else if ready < min_ready {
            if want > 0 || !inactive {
                Some((ActiveStatus::Activating, ActiveReason::Queued))
            } else {
                Some((ActiveStatus::Inactive, ActiveReason::NoTraffic))
            }
        } else if want > 0 || !inactive {
            Some((ActiveStatus::Active, ActiveReason::None))
        } else {
            None
        };
        if let Some((status, reason)) = next
            && (status, reason) != (state.active, state.active_reason)
        {
            state.active = status;
            state.active_reason = reason;
            state.active_since_ms = now;
        }
    }
}
