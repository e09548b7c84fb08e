//! Policy search: the cheapest configuration whose overloaded time meets an SLO on a history.

use serde::{Deserialize, Serialize};

use super::{Fleet, Run, Scores, Trace, simulate};
use crate::error::{Error, Result};
use crate::scaler::Scaler;
use crate::spec::{
    Behavior, ControllerConfig, HpaSource, MetricSpec, MetricTarget, ScalerSpec, ScalingRules,
};

/// The grid [`tune`] searches: every combination of target utilization (percent), tolerance and
/// scale-down stabilization window (seconds) of an HPA policy with `behavior` set.
///
/// | field | default |
/// | --- | --- |
/// | `targets` | 30, 35, …, 90 % |
/// | `tolerances` | 0.02, 0.05, 0.1, 0.2 |
/// | `down_windows_s` | 0, 60, 180, 300, 600 |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneGrid {
    /// Target utilizations, percent.
    pub targets: Vec<i32>,
    /// Tolerances.
    pub tolerances: Vec<f64>,
    /// Scale-down stabilization windows, seconds.
    pub down_windows_s: Vec<u32>,
}

impl Default for TuneGrid {
    fn default() -> Self {
        Self {
            targets: (30..=90).step_by(5).collect(),
            tolerances: vec![0.02, 0.05, 0.1, 0.2],
            down_windows_s: vec![0, 60, 180, 300, 600],
        }
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

/// Searches `grid` for the HPA configuration with the fewest replica-hours on `trace` whose
/// overloaded time is at most `100 − slo_pct` percent of the time (`slo_pct` 99.9 allows 0.1 %).
/// Ties go to the first found (grid order). `progress` gets the number of configurations tried.
///
/// ```
/// use replicast::sim::{tune, Fleet, Trace, TuneGrid};
/// let trace = Trace::new((0..240).map(|i| i * 60).collect(), (0..240).map(|i| 100.0 + f64::from(i % 60)).collect()).unwrap();
/// let fleet = Fleet { capacity_per_replica: 10.0, startup_s: 120, decision_interval_s: 0,
///                     min_replicas: 1, max_replicas: 100, initial_replicas: 20 };
/// let grid = TuneGrid { targets: vec![50, 70, 90], tolerances: vec![0.1], down_windows_s: vec![300] };
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
    let total = grid.targets.len() * grid.tolerances.len() * grid.down_windows_s.len();
    if total == 0 {
        return Err(Error::invalid_input("the tuning grid is empty"));
    }
    let hours = trace.len() as f64 * trace.step_s() as f64 / 3600.0;
    let allowed_minutes = hours * 60.0 * (100.0 - slo_pct) / 100.0;
    let mut best: Option<(ScalerSpec, Run)> = None;
    let mut tried = 0;
    let mut feasible = 0;
    for &target in &grid.targets {
        for &tolerance in &grid.tolerances {
            for &window in &grid.down_windows_s {
                let spec = hpa_spec(
                    fleet.min_replicas.max(1),
                    fleet.max_replicas,
                    target,
                    tolerance,
                    window,
                );
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
