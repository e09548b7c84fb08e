//! The default backtest setup shared by the CLI and the bindings: the fleet sized for a trace and
//! the three default policies (HPA, threshold, predictive).

use super::{Fleet, Trace};
use crate::error::{Error, Result};
use crate::spec::{ForecastScaleIn, PredictiveMode, PredictiveSpec, ScalerSpec};

/// The target utilization the default policies aim at and [`Fleet::for_trace`] sizes for.
pub const TARGET_UTILIZATION: f64 = 0.7;

/// Automatic capacity: the trace's peak needs this many replicas at [`TARGET_UTILIZATION`]
/// (see [`Fleet::auto_capacity`]).
pub const AUTO_PEAK_REPLICAS: u32 = 20;

/// The default HPA policy: the seed's HPA (CPU at 70 %, no behavior).
const HPA_POLICY: &str = "min_replicas: 1\nmax_replicas: 60\nhpa:\n  metrics:\n    - {type: resource, resource: cpu, target: {type: utilization, average_utilization: 70}}\n";

/// The default threshold policy: bands on CPU with the aggressive preset's cooldowns.
const THRESHOLD_POLICY: &str = "min_replicas: 1\nmax_replicas: 60\nthreshold:\n  rules: [{signal: cpu, scale_up_above: 70, scale_down_below: 30}]\ncooldown: {scale_up_s: 30, scale_down_s: 120}\n";

/// The default predictive policy provisions the expected load at 83 % (its HPA backstop aims
/// at the same) ...
const PREDICTIVE_TARGET_PCT: i32 = 83;
/// ... and the forecast's 99th percentile at 88.5 % (see docs/decisions.md).
const PREDICTIVE_QUANTILE: f64 = 0.99;
const PREDICTIVE_PEAK_UTILIZATION: f64 = 0.885;

/// The knobs of a predictive policy that [`predictive_policy`] builds and `tune` searches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictivePolicy {
    /// Target utilization of the expected load and of the reactive HPA backstop, percent.
    pub target_pct: i32,
    /// Quantile of the forecast to provision.
    pub quantile: f64,
    /// Utilization the quantile may reach, in (target, 1].
    pub peak_utilization: f64,
    /// Start-up the forecast's lead assumes, seconds.
    pub startup_s: u32,
}

/// A predictive policy for `fleet`, sampling once per trace step of `step_s` seconds: the
/// predictive source with scale-in on forecast over 300 s, and the HPA on CPU at the same
/// target as a reactive backstop for what the forecast misses.
///
/// ```
/// use replicast::sim::{Fleet, Trace, PredictivePolicy, predictive_policy};
/// let trace = Trace::new(vec![0, 60], vec![70.0, 140.0]).unwrap();
/// let fleet = Fleet::for_trace(&trace, 10.0, 120, 0, 100);
/// let knobs = PredictivePolicy { target_pct: 75, quantile: 0.95, peak_utilization: 0.9, startup_s: 180 };
/// let spec = predictive_policy(&fleet, 60, &knobs).unwrap();
/// assert_eq!(spec.predictive.unwrap().quantile, 0.95);
/// ```
///
/// # Errors
/// [`crate::ErrorKind::InvalidInput`] when `step_s` is not a positive number of seconds that
/// fits in `u32`; [`crate::ErrorKind::InvalidConfig`] when a knob is out of range.
pub fn predictive_policy(
    fleet: &Fleet,
    step_s: i64,
    knobs: &PredictivePolicy,
) -> Result<ScalerSpec> {
    let step = u32::try_from(step_s)
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| {
            Error::invalid_input(format!("step_s must be in [1, {}], got {step_s}", u32::MAX))
        })?;
    let mut spec = ScalerSpec::from_yaml(&format!(
        "min_replicas: {}\nmax_replicas: {}\nhpa:\n  metrics:\n    - {{type: resource, resource: cpu, target: {{type: utilization, average_utilization: {}}}}}\n",
        fleet.min_replicas.max(1),
        fleet.max_replicas,
        knobs.target_pct
    ))?;
    spec.predictive = Some(PredictiveSpec {
        capacity_per_replica: fleet.capacity_per_replica,
        target_utilization: f64::from(knobs.target_pct) / 100.0,
        startup_s: knobs.startup_s,
        learn_startup: false,
        decision_interval_s: if fleet.decision_interval_s == 0 {
            step.max(15)
        } else {
            fleet.decision_interval_s
        },
        sample_interval_s: step,
        quantile: knobs.quantile,
        mode: PredictiveMode::ForecastAndScale,
        warmup_samples: 60,
        history_s: 4 * 86_400,
        max_buffer_replicas: 0,
        peak_utilization: Some(knobs.peak_utilization),
        scale_in: Some(ForecastScaleIn {
            window_s: 300,
            after_scale_up_s: 300,
        }),
        floors: Vec::new(),
        outlier_k: 0.0,
    });
    spec.validate()?;
    Ok(spec)
}

impl Fleet {
    /// The fleet a backtest of `trace` uses by default: bounds `1..=max_replicas`, and as many
    /// replicas ready at the start as the first step needs at [`TARGET_UTILIZATION`].
    ///
    /// ```
    /// use replicast::sim::{Fleet, Trace};
    /// let trace = Trace::new(vec![0, 60], vec![70.0, 140.0]).unwrap();
    /// let fleet = Fleet::for_trace(&trace, 10.0, 120, 0, 100);
    /// assert_eq!(fleet.initial_replicas, 10);
    /// ```
    #[must_use]
    pub fn for_trace(
        trace: &Trace,
        capacity_per_replica: f64,
        startup_s: u32,
        decision_interval_s: u32,
        max_replicas: u32,
    ) -> Fleet {
        let first = trace.values()[0];
        Fleet {
            capacity_per_replica,
            startup_s,
            decision_interval_s,
            min_replicas: 1,
            max_replicas,
            initial_replicas: ((first / (capacity_per_replica * TARGET_UTILIZATION)).ceil() as u32)
                .max(1),
        }
    }
}

/// The default policies, in order: `hpa` (the seed's HPA: CPU at 70 %, no behavior),
/// `threshold` (bands at 30 % and 70 % CPU, cooldowns 30 s up and 120 s down) and `predictive`
/// (the predictive source sized for `fleet`, sampling once per trace step of `step_s` seconds:
/// the expected load at 83 %, the forecast's 99th percentile at 88.5 %, scale-in on forecast
/// over 300 s; with the HPA on CPU at 83 % as a reactive backstop). The predictive parameters were
/// chosen by a sweep over the shared traces (docs/decisions.md); `replicast tune` searches them
/// on your own history.
///
/// ```
/// use replicast::sim::{Fleet, Trace, default_policies};
/// let trace = Trace::new(vec![0, 60], vec![70.0, 140.0]).unwrap();
/// let fleet = Fleet::for_trace(&trace, 10.0, 120, 0, 100);
/// let names: Vec<String> = default_policies(&fleet, 60).unwrap().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["hpa", "threshold", "predictive"]);
/// ```
///
/// # Errors
/// [`crate::ErrorKind::InvalidInput`] when `step_s` is not a positive number of seconds that
/// fits in `u32`; [`crate::ErrorKind::InvalidConfig`] when the fleet makes the predictive spec
/// invalid (e.g. a non-positive capacity).
pub fn default_policies(fleet: &Fleet, step_s: i64) -> Result<Vec<(String, ScalerSpec)>> {
    let hpa = ScalerSpec::from_yaml(HPA_POLICY)?;
    let threshold = ScalerSpec::from_yaml(THRESHOLD_POLICY)?;
    let predictive = predictive_policy(
        fleet,
        step_s,
        &PredictivePolicy {
            target_pct: PREDICTIVE_TARGET_PCT,
            quantile: PREDICTIVE_QUANTILE,
            peak_utilization: PREDICTIVE_PEAK_UTILIZATION,
            startup_s: fleet.startup_s,
        },
    )?;
    Ok(vec![
        ("hpa".to_owned(), hpa),
        ("threshold".to_owned(), threshold),
        ("predictive".to_owned(), predictive),
    ])
}
