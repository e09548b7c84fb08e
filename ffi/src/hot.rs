//! The hot path: plain `#[repr(C)]` structs for the common aggregated case (one already
//! aggregated value per HPA metric), so that a batch of many workloads crosses without JSON.

use replicast_core::hpa::{ConditionType, MetricInput};
use replicast_core::{Decision, DecisionInput, Stage};

use crate::boundary::{Failure, FfiResult, arg, ffi_boundary, out_ptr, slice};
use crate::error::replicast_error;
use crate::scaler::replicast_scaler;
use crate::state::replicast_scaler_state;
use crate::status::replicast_status;

/// The caller's health check (`replicast_aggregated_input.health`, a `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum replicast_health {
    /// No health check: nothing is gated.
    Unknown = 0,
    /// Healthy.
    Healthy = 1,
    /// Unhealthy: scale-down is blocked (threshold source).
    Unhealthy = 2,
}

impl TryFrom<u32> for replicast_health {
    type Error = u32;

    fn try_from(value: u32) -> Result<Self, u32> {
        match value {
            0 => Ok(Self::Unknown),
            1 => Ok(Self::Healthy),
            2 => Ok(Self::Unhealthy),
            other => Err(other),
        }
    }
}

/// The pipeline stage that last changed the value (`replicast_decision_summary.last_stage`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum replicast_stage {
    /// No stage changed the value.
    None = 0,
    /// The current replicas were outside `[min, max]`.
    Bounds = 1,
    /// The proposals were combined (max).
    Combine = 2,
    /// A failed metric blocked the change.
    MetricFailure = 3,
    /// Stabilization windows held the change back.
    Stabilization = 4,
    /// Rate limits limited the change.
    RateLimit = 5,
    /// `min_replicas` / `max_replicas` clamped the value.
    MinMax = 6,
    /// A cooldown held the change back.
    Cooldown = 7,
    /// Scale-from-zero rules raised the value.
    ScaleFromZero = 8,
    /// KEDA's activation loop changed the value (from or to zero / idle).
    Activation = 9,
    /// Knative's panic mode changed the value (or refused a scale-down).
    Panic = 10,
    /// Knative's scale-down delay kept a recent larger value.
    ScaleDownDelay = 11,
    /// Knative's scale-to-zero rules changed the value.
    ScaleToZero = 12,
}

impl From<Stage> for replicast_stage {
    fn from(stage: Stage) -> Self {
        match stage {
            Stage::Bounds => Self::Bounds,
            Stage::Combine => Self::Combine,
            Stage::MetricFailure => Self::MetricFailure,
            Stage::Stabilization => Self::Stabilization,
            Stage::RateLimit => Self::RateLimit,
            Stage::MinMax => Self::MinMax,
            Stage::Cooldown => Self::Cooldown,
            Stage::ScaleFromZero => Self::ScaleFromZero,
            Stage::Activation => Self::Activation,
            Stage::Panic => Self::Panic,
            Stage::ScaleDownDelay => Self::ScaleDownDelay,
            Stage::ScaleToZero => Self::ScaleToZero,
        }
    }
}

/// One workload's observation in aggregated form; its metric values are passed beside it as
/// `const double *values` (one per HPA metric of the spec, in spec order: percent utilisation for
/// `Utilization` targets, the per-pod average for `AverageValue`, the total for `Value`).
///
/// Equivalent to the JSON `DecisionInput` with `metrics: [{"kind": "aggregated", "value":
/// values[i], "ready_replicas": ready_replicas}, ...]`. Specs with a threshold source (named
/// signals) or per-pod data need the JSON form.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct replicast_aggregated_input {
    /// The decision instant, milliseconds (Unix epoch or any monotonic origin); must not go back
    /// in time between decisions on one state.
    pub now_ms: i64,
    /// The target's desired replicas now (`scale.spec.replicas`).
    pub current_replicas: u32,
    /// Ready pods the averages were taken over.
    pub ready_replicas: u32,
    /// Replicas that exist (`scale.status.replicas`); read only if `has_status_replicas`.
    pub status_replicas: u32,
    /// Whether `status_replicas` is set (otherwise it defaults to `current_replicas`).
    pub has_status_replicas: bool,
    /// A `replicast_health` value; anything else is `REPLICAST_STATUS_INVALID_INPUT`.
    pub health: u32,
}

/// The fixed-size summary of a decision (the JSON form has every proposal, step and condition).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct replicast_decision_summary {
    /// Replicas to run.
    pub replicas: u32,
    /// Replicas before the decision.
    pub current_replicas: u32,
    /// Whether `replicas != current_replicas`.
    pub rescale: bool,
    /// Whether the `ScalingActive` condition is true (a replica count could be computed).
    pub scaling_active: bool,
    /// Whether the `ScalingLimited` condition is true (bounds or rate limits changed the value).
    pub scaling_limited: bool,
    /// How many stages changed the value.
    pub n_steps: u32,
    /// The `replicast_stage` that changed the value last (`REPLICAST_STAGE_NONE` if none).
    pub last_stage: u32,
    /// How many metrics failed.
    pub n_errors: u32,
}

impl From<&Decision> for replicast_decision_summary {
    fn from(d: &Decision) -> Self {
        let condition =
            |kind: ConditionType| d.conditions.iter().any(|c| c.kind == kind && c.status);
        Self {
            replicas: d.replicas,
            current_replicas: d.current_replicas,
            rescale: d.rescale,
            scaling_active: condition(ConditionType::ScalingActive),
            scaling_limited: condition(ConditionType::ScalingLimited),
            n_steps: u32::try_from(d.steps.len()).unwrap_or(u32::MAX),
            last_stage: d
                .steps
                .last()
                .map_or(replicast_stage::None, |s| s.stage.into()) as u32,
            n_errors: u32::try_from(d.errors.len()).unwrap_or(u32::MAX),
        }
    }
}

fn decision_input(input: &replicast_aggregated_input, values: &[f64]) -> FfiResult<DecisionInput> {
    let health = replicast_health::try_from(input.health).map_err(|other| {
        Failure::new(
            replicast_status::InvalidInput,
            format!("health must be 0 (unknown), 1 (healthy) or 2 (unhealthy), got {other}"),
        )
    })?;
    let healthy = match health {
        replicast_health::Unknown => None,
        replicast_health::Healthy => Some(true),
        replicast_health::Unhealthy => Some(false),
    };
    Ok(DecisionInput {
        now_ms: input.now_ms,
        current_replicas: input.current_replicas,
        status_replicas: input.has_status_replicas.then_some(input.status_replicas),
        ready_replicas: Some(input.ready_replicas),
        pods: None,
        metrics: values
            .iter()
            .map(|&value| MetricInput::Aggregated {
                value,
                ready_replicas: input.ready_replicas,
            })
            .collect(),
        signals: std::collections::BTreeMap::new(),
        healthy,
        // the plain-struct form carries no load sample yet: predictive specs use the JSON form
        ..DecisionInput::default()
    })
}

fn decide_one(
    scaler: &replicast_scaler,
    state: &mut replicast_scaler_state,
    input: &replicast_aggregated_input,
    values: &[f64],
) -> FfiResult<replicast_decision_summary> {
    let input = decision_input(input, values)?;
    let decision = scaler.inner.decide(&mut state.inner, &input)?;
    Ok((&decision).into())
}

/// Decides for one workload from an aggregated observation; `values` holds `n_values` doubles
/// (`replicast_scaler_metric_count` of them). The summary goes to `*out`; `state` is updated
/// only on success.
///
/// # Errors
/// `REPLICAST_STATUS_INVALID_INPUT` for a wrong `n_values`, a NaN, infinite or negative value, a
/// timestamp before the state's last decision, or an unknown `health`.
///
/// # Safety
/// `scaler` is NULL or a live scaler handle; `state` is NULL or a live state handle that no
/// other thread uses during the call; `input` is NULL or valid for reads; `values` is valid for
/// reads of `n_values` doubles (NULL only if `n_values` is 0); `out` is valid for writes;
/// `err_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_scaler_decide_aggregated(
    scaler: *const replicast_scaler,
    state: *mut replicast_scaler_state,
    input: *const replicast_aggregated_input,
    values: *const f64,
    n_values: usize,
    out: *mut replicast_decision_summary,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        // SAFETY: the caller's contract on each argument.
        let (scaler, state, input, values) = unsafe {
            (
                arg(scaler, "scaler")?,
                crate::boundary::arg_mut(state, "state")?,
                arg(input, "input")?,
                slice(values, n_values, "values")?,
            )
        };
        let out = out_ptr(out, "out")?;
        let summary = decide_one(scaler, state, input, values)?;
        // SAFETY: `out` is non-NULL and, by contract, writable.
        unsafe { out.write(summary) };
        Ok(())
    })
}

/// Decides for `n` workloads with one scaler, in order: `states[i]` with `inputs[i]` and the
/// values `values[i * m .. (i + 1) * m]`, where `m` is `replicast_scaler_metric_count` and
/// `n_values` must be `n * m`. Each workload's status goes to `statuses[i]` (a
/// `replicast_status`) and, when it is `REPLICAST_STATUS_OK`, its summary to `out[i]`; a failed
/// workload's state and `out[i]` are left as they were (decide it alone with
/// `replicast_scaler_decide_aggregated` to get the message). `*out_failed`, if not NULL, receives
/// the number of failed workloads.
///
/// The call itself fails only for bad arguments (NULLs, a wrong `n_values`), before any state
/// changes. A state listed twice is decided twice, in order.
///
/// # Safety
/// `scaler` is NULL or a live scaler handle; `states`, `inputs`, `out` and `statuses` are valid
/// for `n` elements each (reads, reads, writes, writes; NULL only if `n` is 0), each state a
/// live handle that no other thread uses during the call; `values` is valid for reads of
/// `n_values` doubles (NULL only if `n_values` is 0); `out_failed` is NULL or valid for writing
/// one `size_t`; `err_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_scaler_decide_aggregated_batch(
    scaler: *const replicast_scaler,
    states: *const *mut replicast_scaler_state,
    inputs: *const replicast_aggregated_input,
    n: usize,
    values: *const f64,
    n_values: usize,
    out: *mut replicast_decision_summary,
    statuses: *mut u32,
    out_failed: *mut usize,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        // SAFETY: the caller's contract on each argument.
        let (scaler, states, inputs, values) = unsafe {
            (
                arg(scaler, "scaler")?,
                slice(states, n, "states")?,
                slice(inputs, n, "inputs")?,
                slice(values, n_values, "values")?,
            )
        };
        if n > 0 {
            out_ptr(out, "out")?;
            out_ptr(statuses, "statuses")?;
        }
        let m = scaler.metric_count;
        if Some(n_values) != n.checked_mul(m) {
            return Err(Failure::new(
                replicast_status::InvalidInput,
                format!("n_values must be n × metric count ({n} × {m}), got {n_values}"),
            ));
        }
        if let Some(i) = states.iter().position(|s| s.is_null()) {
            return Err(Failure::null(&format!("states[{i}]")));
        }
        let mut failed = 0usize;
        for (i, (&state, input)) in states.iter().zip(inputs).enumerate() {
            // SAFETY: non-NULL (checked above), live and not shared (the caller's contract); the
            // reference lives for this iteration only, so a state listed twice is never aliased.
            let state = unsafe { &mut *state };
            let status = match decide_one(scaler, state, input, &values[i * m..(i + 1) * m]) {
                Ok(summary) => {
                    // SAFETY: `i < n` and `out` is valid for `n` writes.
                    unsafe { out.add(i).write(summary) };
                    replicast_status::Ok
                }
                Err(f) => {
                    failed += 1;
                    f.status
                }
            };
            // SAFETY: `i < n` and `statuses` is valid for `n` writes.
            unsafe { statuses.add(i).write(status as u32) };
        }
        if !out_failed.is_null() {
            // SAFETY: the caller's contract.
            unsafe { out_failed.write(failed) };
        }
        Ok(())
    })
}
