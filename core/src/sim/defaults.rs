//! The default backtest setup shared by the CLI and the bindings: the fleet sized for a trace and
//! the three default policies (HPA, threshold, predictive).

use super::{Fleet, Trace};
use crate::error::{Error, Result};
use crate::spec::{ForecastScaleIn, PredictiveMode, PredictiveSpec, ScalerSpec, Slo};

/// The target utilization the default policies aim at and [`Fleet::for_trace`] sizes for.
pub const TARGET_UTILIZATION: f64 = 0.7;

/// Automatic capacity: the trace's peak needs this many replicas at [`TARGET_UTILIZATION`]
/// (see [`Fleet::auto_capacity`]).
pub const AUTO_PEAK_REPLICAS: u32 = 20;

/// The default HPA policy: the seed's HPA (CPU at 70 %, no behavior).
const HPA_POLICY: &str = "min_replicas: 1\nmax_replicas: 60\nhpa:\n  metrics:\n    - {type: resource, resource: cpu, target: {type: utilization, average_utilization: 70}}\n";

/// The default threshold policy: bands on CPU with the aggressive preset's cooldowns.
const THRESHOLD_POLICY: &str = "min_replicas: 1\nmax_replicas: 60\nthreshold:\n  rules: [{signal: cpu, scale_up_above: 70, scale_down_below: 30}]\ncooldown: {scale_up_s: 30, scale_down_s: 120}\n";

/// The default predictive policy's reactive HPA backstop aims at 83 % ...
const PREDICTIVE_BACKSTOP_PCT: i32 = 83;
/// ... and its forecast aims at the load above the ready capacity at most 0.05 % of the time,
/// paying on average at most 1.1 times what a reactive autoscaler at the seed's 70 % would
/// (docs/backtest.md: the pick on the shared traces; leave one trace out, the picks on eight of
/// them are scored on the ninth).
const PREDICTIVE_SLO: Provision = Provision::Slo {
    max_overloaded_pct: 0.05,
    max_cost_ratio: 1.1,
};

/// How a predictive policy provisions its forecast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Provision {
    /// A fixed quantile: the expected load at `target_pct`, the forecast's `quantile` at
    /// `peak_utilization`.
    Quantile {
        /// Target utilization of the expected load, percent.
        target_pct: i32,
        /// Quantile of the forecast.
        quantile: f64,
        /// Utilization the quantile may reach, in [target, 1].
        peak_utilization: f64,
    },
    /// Self-calibrating headroom ([`crate::spec::Slo`]): overloaded at most
    /// `max_overloaded_pct` of the time, paying on average at most `max_cost_ratio` times what a
    /// reactive autoscaler at [`TARGET_UTILIZATION`] would.
    Slo {
        /// Percent of time the load may exceed the ready capacity.
        max_overloaded_pct: f64,
        /// Cost bound relative to a reactive autoscaler at [`TARGET_UTILIZATION`].
        max_cost_ratio: f64,
    },
}

/// The knobs of a predictive policy that [`predictive_policy`] builds and `tune` searches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictivePolicy {
    /// Target utilization of the reactive HPA backstop, percent.
    pub backstop_pct: i32,
    /// How the forecast is provisioned.
    pub provision: Provision,
    /// Start-up the forecast's lead assumes, seconds.
    pub startup_s: u32,
    /// Share the headroom out by the minute of the hour (`PredictiveSpec::phase_of_hour`).
    pub phase_of_hour: bool,
}

impl PredictivePolicy {
    /// The default predictive policy of the backtest for a fleet whose replicas start in
    /// `startup_s`: the HPA at 83 % as a backstop, and the forecast calibrated to an overload
    /// budget of 0.05 % of the time at no more than 1.1 times a reactive 70 % target's cost.
    ///
    /// ```
    /// use replicast::sim::{PredictivePolicy, Provision};
    /// let knobs = PredictivePolicy::default_for(120);
    /// assert!(matches!(knobs.provision, Provision::Slo { .. }));
    /// ```
    #[must_use]
    pub fn default_for(startup_s: u32) -> Self {
        Self {
            backstop_pct: PREDICTIVE_BACKSTOP_PCT,
            provision: PREDICTIVE_SLO,
            startup_s,
            phase_of_hour: true,
        }
    }
}

/// The forecast's resolution for a trace of `step_s` seconds: a quarter of the start-up, at most
/// 30 s, in whole steps (the trace's step when it is coarser). The lead then spans several
/// samples, and a day of them stays under 3,000 however fine the trace.
///
/// ```
/// use replicast::sim::forecast_interval_s;
/// assert_eq!(forecast_interval_s(1, 120), 30);
/// assert_eq!(forecast_interval_s(15, 120), 30);
/// assert_eq!(forecast_interval_s(60, 120), 60);
/// assert_eq!(forecast_interval_s(1, 20), 5);
/// ```
#[must_use]
pub fn forecast_interval_s(step_s: u32, startup_s: u32) -> u32 {
    let step = step_s.max(1);
    let wanted = (startup_s / 4).clamp(1, 30);
    wanted.div_ceil(step) * step
}

/// A predictive policy for `fleet` on a trace of `step_s` seconds: the predictive source
/// (samples at [`forecast_interval_s`], scale-in on forecast over 300 s) with the HPA on CPU at
/// `backstop_pct` as a reactive backstop for what the forecast misses.
///
/// ```
/// use replicast::sim::{Fleet, Trace, PredictivePolicy, Provision, predictive_policy};
/// let trace = Trace::new(vec![0, 60], vec![70.0, 140.0]).unwrap();
/// let fleet = Fleet::for_trace(&trace, 10.0, 120, 0, 100);
/// let knobs = PredictivePolicy {
///     backstop_pct: 75,
///     provision: Provision::Quantile { target_pct: 75, quantile: 0.95, peak_utilization: 0.9 },
///     startup_s: 180,
///     phase_of_hour: true,
/// };
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
        knobs.backstop_pct
    ))?;
    let (target_utilization, quantile, peak_utilization, slo) = match knobs.provision {
        Provision::Quantile {
            target_pct,
            quantile,
            peak_utilization,
        } => (
            f64::from(target_pct) / 100.0,
            quantile,
            Some(peak_utilization),
            None,
        ),
        Provision::Slo {
            max_overloaded_pct,
            max_cost_ratio,
        } => (
            TARGET_UTILIZATION,
            0.9,
            None,
            Some(Slo {
                max_overloaded_pct,
                max_cost_ratio,
            }),
        ),
    };
    spec.predictive = Some(PredictiveSpec {
        capacity_per_replica: fleet.capacity_per_replica,
        target_utilization,
        startup_s: knobs.startup_s,
        learn_startup: false,
        decision_interval_s: if fleet.decision_interval_s == 0 {
            step.max(15)
        } else {
            fleet.decision_interval_s
        },
        sample_interval_s: forecast_interval_s(step, knobs.startup_s),
        quantile,
        slo,
        mode: PredictiveMode::ForecastAndScale,
        warmup_samples: 60,
        history_s: 4 * 86_400,
        max_buffer_replicas: 0,
        peak_utilization,
        scale_in: Some(ForecastScaleIn {
            window_s: 300,
            after_scale_up_s: 300,
        }),
        floors: Vec::new(),
        outlier_k: 0.0,
        phase_of_hour: knobs.phase_of_hour,
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
/// ([`PredictivePolicy::default_for`] the fleet's start-up: the HPA on CPU at 83 % as a
/// reactive backstop, and the predictive source sized for `fleet`, its headroom calibrated to
/// an overload budget of 0.05 % of the time at no more than 1.1 times a reactive 70 % target's
/// cost, scale-in on forecast over 300 s). The backstop and the budget were chosen leave one trace out on the
/// shared traces (docs/backtest.md); `replicast tune` searches such knobs on your own history.
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
    policies_with(
        fleet,
        step_s,
        &PredictivePolicy::default_for(fleet.startup_s),
    )
}

/// The default policies with `knobs` for the predictive one (what `replicast backtest
/// --predictive` runs).
///
/// # Errors
/// As [`default_policies`].
pub fn policies_with(
    fleet: &Fleet,
    step_s: i64,
    knobs: &PredictivePolicy,
) -> Result<Vec<(String, ScalerSpec)>> {
    let hpa = ScalerSpec::from_yaml(HPA_POLICY)?;
    let threshold = ScalerSpec::from_yaml(THRESHOLD_POLICY)?;
    let predictive = predictive_policy(fleet, step_s, knobs)?;
    Ok(vec![
        ("hpa".to_owned(), hpa),
        ("threshold".to_owned(), threshold),
        ("predictive".to_owned(), predictive),
    ])
}
