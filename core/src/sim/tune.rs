//! Policy search: the cheapest configuration whose overloaded time meets an SLO on a history,
//! chosen on its first part and scored on the rest.

use serde::{Deserialize, Serialize};

use super::{Fleet, PredictivePolicy, Provision, Run, Scores, Trace, predictive_policy, simulate};
use crate::error::{Error, Result};
use crate::scaler::Scaler;
use crate::spec::{
    Behavior, ControllerConfig, HpaSource, MetricSpec, MetricTarget, ScalerSpec, ScalingRules,
};

/// The grid [`tune`] searches: every combination of target utilization (percent), tolerance and
/// scale-down stabilization window (seconds) of an HPA policy with `behavior` set; then every
/// combination of target, quantile, peak utilization and start-up (the forecast's lead) of a
/// fixed-quantile predictive policy ([`super::predictive_policy`]), unless `quantiles` is empty;
/// then every combination of backstop target (`predictive_targets`) and cost bound of a
/// self-calibrating one whose overload budget is the SLO's ([`Provision::Slo`]).
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
/// | `slo_cost_ratios` | 1.0, 1.25, 1.5 |
///
/// Deserialized, a missing field takes its default and an unknown one is an error:
///
/// ```
/// use replicast::sim::TuneGrid;
/// let grid: TuneGrid = serde_json::from_str(r#"{"targets": [60, 70]}"#).unwrap();
/// assert_eq!(grid.targets, [60, 70]);
/// assert_eq!(grid.quantiles, TuneGrid::default().quantiles);
/// assert!(serde_json::from_str::<TuneGrid>(r#"{"target": [60]}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TuneGrid {
    /// Target utilizations, percent.
    pub targets: Vec<i32>,
    /// Tolerances.
    pub tolerances: Vec<f64>,
    /// Scale-down stabilization windows, seconds.
    pub down_windows_s: Vec<u32>,
    /// Targets of the predictive policies, percent.
    pub predictive_targets: Vec<i32>,
    /// Forecast quantiles; empty: no predictive policies.
    pub quantiles: Vec<f64>,
    /// Peak utilizations of the quantile.
    pub peak_utilizations: Vec<f64>,
    /// Start-ups the forecast's lead assumes, seconds; empty: the fleet's and 1.5 × it.
    pub startups_s: Vec<u32>,
    /// Cost bounds of the self-calibrating predictive policies; empty: none of them.
    pub slo_cost_ratios: Vec<f64>,
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
            slo_cost_ratios: vec![1.0, 1.25, 1.5],
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

    /// Every valid predictive configuration of the grid for `fleet` and an SLO of `slo_pct`.
    fn predictive_candidates(&self, fleet: &Fleet, slo_pct: f64) -> Vec<PredictivePolicy> {
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
                            backstop_pct: target_pct,
                            provision: Provision::Quantile {
                                target_pct,
                                quantile,
                                peak_utilization,
                            },
                            // the rest (the headroom by the minute of the hour) as the default
                            ..PredictivePolicy::default_for(startup_s)
                        });
                    }
                }
            }
        }
        // the self-calibrating policy takes the SLO's budget, when it is one it accepts
        let budget = 100.0 - slo_pct;
        if budget > 0.0 && budget <= 50.0 {
            for &backstop_pct in &self.predictive_targets {
                for &max_cost_ratio in &self.slo_cost_ratios {
                    out.push(PredictivePolicy {
                        backstop_pct,
                        provision: Provision::Slo {
                            max_overloaded_pct: budget,
                            max_cost_ratio,
                        },
                        ..PredictivePolicy::default_for(fleet.startup_s)
                    });
                }
            }
        }
        out
    }

    /// How many configurations [`tune`] tries with this grid on `fleet` for an SLO of `slo_pct`.
    ///
    /// ```
    /// use replicast::sim::{Fleet, TuneGrid};
    /// let fleet = Fleet { capacity_per_replica: 10.0, startup_s: 120, decision_interval_s: 0,
    ///                     min_replicas: 1, max_replicas: 100, initial_replicas: 20 };
    /// assert_eq!(TuneGrid::default().size(&fleet, 99.9), 13 * 4 * 5 + 3 * 4 * 2 * 2 + 3 * 3);
    /// ```
    #[must_use]
    pub fn size(&self, fleet: &Fleet, slo_pct: f64) -> usize {
        self.hpa_candidates().count() + self.predictive_candidates(fleet, slo_pct).len()
    }
}

/// The outcome of a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TuneResult {
    /// The cheapest spec that meets the SLO on the part of the history it was chosen on.
    pub spec: ScalerSpec,
    /// Its scores on that part.
    pub scores: Scores,
    /// How many configurations were tried.
    pub tried: usize,
    /// How many met the SLO.
    pub feasible: usize,
    /// How the pick did on the tail held back from the search (none when nothing was held back).
    pub held_out: Option<HeldOut>,
}

/// The pick's figures on the tail of the history the search did not see: replayed over the whole
/// history (so it starts the tail warmed up, as a deployed policy would), scored on the tail only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldOut {
    /// Steps held back (the last ones).
    pub steps: usize,
    /// The pick's scores on them.
    pub scores: Scores,
    /// Minutes overloaded the SLO allows on them.
    pub allowed_minutes: f64,
    /// Whether the pick met the SLO on them.
    pub meets_slo: bool,
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
            namespace: None,
        }),
        threshold: None,
        predictive: None,
        keda: None,
        kpa: None,
        vpa: None,
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

/// Searches `grid` for the HPA or predictive configuration with the fewest replica-hours whose
/// overloaded time is at most `100 − slo_pct` percent of the time (`slo_pct` 99.9 allows 0.1 %),
/// on all but the last `held_out_pct` percent of `trace`; then scores the pick on that tail
/// ([`HeldOut`]), which the search never saw. Ties go to the first found (grid order).
/// `progress` gets the number of configurations tried.
///
/// ```
/// use replicast::sim::{tune, Fleet, Trace, TuneGrid};
/// let trace = Trace::new((0..320).map(|i| i * 60).collect(), (0..320).map(|i| 100.0 + f64::from(i % 60)).collect()).unwrap();
/// let fleet = Fleet { capacity_per_replica: 10.0, startup_s: 120, decision_interval_s: 0,
///                     min_replicas: 1, max_replicas: 100, initial_replicas: 20 };
/// let grid = TuneGrid { targets: vec![50, 70, 90], tolerances: vec![0.1], down_windows_s: vec![300],
///                       quantiles: vec![], slo_cost_ratios: vec![], ..TuneGrid::default() };
/// let best = tune(&trace, &fleet, 99.0, &grid, 25.0, &mut |_| {}).unwrap();
/// assert_eq!(best.tried, 3);
/// assert!(best.scores.minutes_overloaded <= 2.4); // 1 % of the first 240 minutes
/// let tail = best.held_out.unwrap();
/// assert_eq!((tail.steps, tail.allowed_minutes), (80, 0.8));
/// ```
///
/// # Errors
/// [`crate::ErrorKind::InvalidInput`] for an SLO outside (0, 100], a held-out share outside
/// [0, 90] or an empty grid; [`crate::ErrorKind::InsufficientData`] when no configuration meets
/// the SLO, or the part to search would be shorter than two steps.
pub fn tune(
    trace: &Trace,
    fleet: &Fleet,
    slo_pct: f64,
    grid: &TuneGrid,
    held_out_pct: f64,
    progress: &mut dyn FnMut(usize),
) -> Result<TuneResult> {
    if !(slo_pct > 0.0 && slo_pct <= 100.0) {
        return Err(Error::invalid_input(format!(
            "slo must be a percentage in (0, 100], got {slo_pct}"
        )));
    }
    if !(0.0..=90.0).contains(&held_out_pct) {
        return Err(Error::invalid_input(format!(
            "the held-out share must be a percentage in [0, 90], got {held_out_pct}"
        )));
    }
    let total = grid.size(fleet, slo_pct);
    if total == 0 {
        return Err(Error::invalid_input("the tuning grid is empty"));
    }
    let tail_steps = (trace.len() as f64 * held_out_pct / 100.0).floor() as usize;
    let head_steps = trace.len() - tail_steps;
    if head_steps < 2 {
        return Err(Error::new(
            crate::ErrorKind::InsufficientData,
            format!(
                "holding back {held_out_pct} % of {} steps leaves fewer than 2 to search on",
                trace.len()
            ),
        ));
    }
    let head = Trace::new(
        trace.timestamps_s()[..head_steps].to_vec(),
        trace.values()[..head_steps].to_vec(),
    )?;
    let allowed =
        |steps: usize| steps as f64 * trace.step_s() as f64 / 60.0 * (100.0 - slo_pct) / 100.0;
    let allowed_minutes = allowed(head_steps);
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
        .predictive_candidates(fleet, slo_pct)
        .into_iter()
        .map(|knobs| predictive_policy(fleet, trace.step_s(), &knobs));
    let mut best: Option<(ScalerSpec, Run)> = None;
    let mut tried = 0;
    let mut feasible = 0;
    for spec in hpa.chain(predictive) {
        let spec: ScalerSpec = spec?;
        let scaler = Scaler::new(spec.clone())?;
        let run = simulate(&head, fleet, &scaler, "candidate", &mut |_| {})?;
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
    let held_out = if tail_steps > 0 {
        let whole = simulate(
            trace,
            fleet,
            &Scaler::new(spec.clone())?,
            "pick",
            &mut |_| {},
        )?;
        let scores = super::score(
            &whole.timeline.tail(head_steps),
            fleet.capacity_per_replica,
            trace.step_s(),
        );
        let allowed_minutes = allowed(tail_steps);
        Some(HeldOut {
            steps: tail_steps,
            meets_slo: scores.minutes_overloaded <= allowed_minutes + 1e-9,
            scores,
            allowed_minutes,
        })
    } else {
        None
    };
    Ok(TuneResult {
        spec,
        scores: run.scores,
        tried,
        feasible,
        held_out,
    })
}
