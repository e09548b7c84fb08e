//! Policy search: the cheapest configuration whose overloaded time meets an SLO on a history.

use serde::{Deserialize, Serialize};

use super::{Fleet, PredictivePolicy, Run, Scores, Trace, predictive_policy, simulate};
use crate::error::{Error, Result};
use crate::scaler::Scaler;
use crate::spec::{
    Behavior, ControllerConfig, HpaSource, MetricSpec, MetricTarget, ScalerSpec, ScalingRules,
};

/// The grid [`tune`] searches: every combination of target utilization (percent), tolerance and
/// scale-down stabilization window (seconds) of an HPA policy with `behavior` set; then every
/// combination of target, quantile, peak utilization and start-up (the forecast's lead) of a
/// predictive policy ([`super::predictive_policy`]), unless `quantiles` is empty.
///
/// | field | default |
/// | --- | --- |
/// | `targets` | 30, 35, …, 90 % |
/// | `tolerances` | 0.02, 0.05, 0.1, 0.2 |
/// | `down_windows_s` | 0, 60, 180, 300, 600 |
/// | `predictive_targets` | 70, 80, 83 % |
/// | `quantiles` | 0.9, 0.95, 0.98, 0.99 |
/// | `peak_utilizations` | 0.885, 0.95 (those below a target are skipped) |
/// | `startups_s` | the fleet's start-up, and 1.5 × it |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneGrid {
    /// Target utilizations, percent.
    pub targets: Vec<i32>,
    /// Tolerances.
    pub tolerances: Vec<f64>,
    /// Scale-down stabilization windows, seconds.
    pub down_windows_s: Vec<u32>,
    /// Targets of the predictive policies, percent.
    #[serde(default)]
    pub predictive_targets: Vec<i32>,
    /// Forecast quantiles; empty: no predictive policies.
    #[serde(default)]
    pub quantiles: Vec<f64>,
    /// Peak utilizations of the quantile.
    #[serde(default)]
    pub peak_utilizations: Vec<f64>,
    /// Start-ups the forecast's lead assumes, seconds; empty: the fleet's and 1.5 × it.
    #[serde(default)]
    pub startups_s: Vec<u32>,
}

impl Default for TuneGrid {
    fn default() -> Self {
        Self {
            targets: (30..=90).step_by(5).collect(),
            tolerances: vec![0.02, 0.05, 0.1, 0.2],
            down_windows_s: vec![0, 60, 180, 300, 600],
            predictive_targets: vec![70, 80, 83],
            quantiles: vec![0.9, 0.95, 0.98, 0.99],
            peak_utilizations: vec![0.885, 0.95],
            startups_s: Vec::new(),
        }
    }
}

impl TuneGrid {
    /// Every HPA configuration of the grid.
    fn hpa_candidates(&self) -> impl Iterator<Item = (i32, f64, u32)> + '_ {
        self.targets.iter().flat_map(move |&t| {
            self.tolerances
                .iter()
                .flat_map(move |&tol| self.down_windows_s.iter().map(move |&w| (t, tol, w)))
        })
    }

    /// Every valid predictive configuration of the grid for `fleet`.
    fn predictive_candidates(&self, fleet: &Fleet) -> Vec<PredictivePolicy> {
        let startups = if self.startups_s.is_empty() {
            vec![fleet.startup_s, fleet.startup_s.saturating_mul(3) / 2]
        } else {
            self.startups_s.clone()
        };
        let mut out = Vec::new();
        for &target_pct in &self.predictive_targets {
            for &quantile in &self.quantiles {
                for &peak_utilization in &self.peak_utilizations {
                    if peak_utilization * 100.0 < f64::from(target_pct) {
                        continue;
                    }
                    for &startup_s in &startups {
                        out.push(PredictivePolicy {
                            target_pct,
                            quantile,
                            peak_utilization,
                            startup_s,
                        });
                    }
                }
            }
        }
        out
    }

    /// How many configurations [`tune`] tries with this grid on `fleet`.
    ///
    /// ```
    /// use replicast::sim::{Fleet, TuneGrid};
    /// let fleet = Fleet { capacity_per_replica: 10.0, startup_s: 120, decision_interval_s: 0,
    ///                     min_replicas: 1, max_replicas: 100, initial_replicas: 20 };
    /// assert_eq!(TuneGrid::default().size(&fleet), 13 * 4 * 5 + 3 * 4 * 2 * 2);
    /// ```
    #[must_use]
    pub fn size(&self, fleet: &Fleet) -> usize {
        self.hpa_candidates().count() + self.predictive_candidates(fleet).len()
    }
}

/// The outcome of a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TuneResult {
    /// The cheapest spec that meets the SLO.
    pub spec: ScalerSpec,
    /// Its scores on the history.
    pub scores: Scores,
    /// How many configurations were tried.
    pub tried: usize,
    /// How many met the SLO.
    pub feasible: usize,
}

fn hpa_spec(min: u32, max: u32, target: i32, tolerance: f64, down_window_s: u32) -> ScalerSpec {
    ScalerSpec {
        min_replicas: min,
        max_replicas: max,
        hpa: Some(HpaSource {
            metrics: vec![MetricSpec::Resource {
                resource: "cpu".to_owned(),
                target: MetricTarget::utilization(target),
            }],
        }),
        threshold: None,
        predictive: None,
        behavior: Some(Behavior {
            scale_up: ScalingRules::default(),
            scale_down: ScalingRules {
                stabilization_window_s: Some(down_window_s),
                ..ScalingRules::default()
            },
        }),
        cooldown: None,
        controller: ControllerConfig {
            tolerance,
            ..ControllerConfig::default()
        },
    }
}

/// Searches `grid` for the HPA or predictive configuration with the fewest replica-hours on `trace` whose
/// overloaded time is at most `100 − slo_pct` percent of the time (`slo_pct` 99.9 allows 0.1 %).
/// Ties go to the first found (grid order). `progress` gets the number of configurations tried.
///
/// ```
/// use replicast::sim::{tune, Fleet, Trace, TuneGrid};
/// let trace = Trace::new((0..240).map(|i| i * 60).collect(), (0..240).map(|i| 100.0 + f64::from(i % 60)).collect()).unwrap();
/// let fleet = Fleet { capacity_per_replica: 10.0, startup_s: 120, decision_interval_s: 0,
///                     min_replicas: 1, max_replicas: 100, initial_replicas: 20 };
/// let grid = TuneGrid { targets: vec![50, 70, 90], tolerances: vec![0.1], down_windows_s: vec![300],
///                       quantiles: vec![], ..TuneGrid::default() };
/// let best = tune(&trace, &fleet, 99.0, &grid, &mut |_| {}).unwrap();
/// assert_eq!(best.tried, 3);
/// assert!(best.scores.minutes_overloaded <= 2.4); // 1 % of 240 minutes
/// ```
///
/// # Errors
/// [`crate::ErrorKind::InvalidInput`] for an SLO outside (0, 100] or an empty grid;
/// [`crate::ErrorKind::InsufficientData`] when no configuration meets the SLO.
pub fn tune(
    trace: &Trace,
    fleet: &Fleet,
    slo_pct: f64,
    grid: &TuneGrid,
    progress: &mut dyn FnMut(usize),
) -> Result<TuneResult> {
    if !(slo_pct > 0.0 && slo_pct <= 100.0) {
        return Err(Error::invalid_input(format!(
            "slo must be a percentage in (0, 100], got {slo_pct}"
        )));
    }
    let total = grid.size(fleet);
    if total == 0 {
        return Err(Error::invalid_input("the tuning grid is empty"));
    }
    let hours = trace.len() as f64 * trace.step_s() as f64 / 3600.0;
    let allowed_minutes = hours * 60.0 * (100.0 - slo_pct) / 100.0;
    let hpa = grid.hpa_candidates().map(|(target, tolerance, window)| {
        Ok(hpa_spec(
            fleet.min_replicas.max(1),
            fleet.max_replicas,
            target,
            tolerance,
            window,
        ))
    });
    let predictive = grid
        .predictive_candidates(fleet)
        .into_iter()
        .map(|knobs| predictive_policy(fleet, trace.step_s(), &knobs));
    let mut best: Option<(ScalerSpec, Run)> = None;
    let mut tried = 0;
    let mut feasible = 0;
    for spec in hpa.chain(predictive) {
        let spec: ScalerSpec = spec?;
        let scaler = Scaler::new(spec.clone())?;
        let run = simulate(trace, fleet, &scaler, "candidate", &mut |_| {})?;
        tried += 1;
        progress(tried);
        if run.scores.minutes_overloaded <= allowed_minutes + 1e-9 {
            feasible += 1;
            let cheaper = best
                .as_ref()
                .is_none_or(|(_, b)| run.scores.replica_hours < b.scores.replica_hours);
            if cheaper {
                best = Some((spec, run));
            }
        }
    }
    let (spec, run) = best.ok_or_else(|| {
        Error::new(
            crate::ErrorKind::InsufficientData,
            format!(
                "no configuration of the {tried} tried keeps overloaded time within {allowed_minutes:.1} minutes ({slo_pct} % SLO); raise max replicas or lower the SLO"
            ),
        )
    })?;
    Ok(TuneResult {
        spec,
        scores: run.scores,
        tried,
        feasible,
    })
}
