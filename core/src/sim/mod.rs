//! Backtest: replay a load trace through a policy against a modelled fleet, and score it.
//!
//! # The model (every assumption)
//!
//! - **Load.** `trace.values()[k]` is the demand during step `k` (requests per step, CPU, ...), in
//!   the same units as [`Fleet::capacity_per_replica`], the load one replica serves at 100 %.
//! - **Replicas.** The policy sets the *provisioned* count (`scale.spec.replicas`). A new replica
//!   serves from the first step that starts at least [`Fleet::startup_s`] after the decision that
//!   created it; until then it is billed but not *ready*. A scale-down first cancels replicas
//!   still starting (newest first), then stops ready ones at once.
//! - **Serving.** During step `k` the ready replicas serve `min(load, ready × capacity)`; the rest
//!   is dropped and the step counts as overloaded.
//! - **Decisions.** Every [`Fleet::decision_interval_s`] (rounded up to whole steps; 0 means
//!   `max(15 s, step)`), at the start of a step, the policy sees only the past: the load of the
//!   previous step and the utilization the ready replicas reported for it,
//!   `100 × load / (ready × capacity)` percent (demand-based, like a request-rate metric: it is
//!   not capped at 100 %), where `load` is the mean over the steps since the previous decision
//!   (one step when decisions are as fine as the trace; the window a metrics pipeline averages
//!   over when they are coarser) and `ready` the replicas ready in the last of them. Each HPA
//!   metric receives it as an aggregated input: the utilization for `Utilization` targets, the
//!   load per ready replica for `AverageValue`, the total load for `Value`. The threshold source
//!   receives the signals `cpu` and `utilization` (the same percentage) and `load`; rules on other
//!   signals see them missing and never scale down. The predictive source receives every step
//!   since the previous decision as `load_samples` (what a range query returns), and averages
//!   them to its own `sample_interval_s`.
//!   A KEDA ScaledObject's triggers are fed like HPA metrics (each trigger sees the load: the
//!   total for External triggers, the utilization for cpu/memory triggers), so its activation
//!   (from and to zero), cooldown and fallback play out on the trace. A Knative KPA receives
//!   the load as its revision-wide total, one scrape per second of each step (the step's load
//!   held through it; only the last stable window of them), so its stable and panic windows,
//!   panic mode and scale to zero play out as in a cluster; its target is in load units.
//! - **Oracle.** Knows the future load and the start-up delay: it runs exactly
//!   `needed = clamp(ceil(load / capacity), min, max)` ready replicas in every step (at least one)
//!   and starts each one `startup_s` ahead, paying for the start-up. It is the cost floor.
//!
//! # Scores (formulas)
//!
//! With supply `s_t` = ready replicas, demand `d_t` = `max(1, ceil(load_t / capacity))`, `T` steps
//! of length `Δ`, the SPEC Research Group elasticity metrics (Herbst et al., 2015) are:
//! `θU = 100/T Σ max(d−s, 0)/d`, `θO = 100/T Σ max(s−d, 0)/d` (under-/over-provisioning
//! accuracy, percent of demand); `τU = 100/T Σ [d > s]`, `τO = 100/T Σ [s > d]` (timeshares,
//! percent of time); instability `υ = 100/(T−1) Σ min(1, |sgn Δs − sgn Δd|)`; jitter
//! `(changes of s − changes of d) / hours`. Cost and service: replica-hours
//! `Σ provisioned × Δ / 3600`; minutes overloaded `Σ [load > ready × capacity] × Δ / 60`; load
//! dropped `Σ max(load − ready × capacity, 0)` (and as a percentage of all load); scaling
//! actions per hour; direction changes (an increase after a decrease or the reverse) per hour.
//! When the policy forecasts (a predictive source past its warm-up), its one-step-ahead forecasts
//! of the load are scored too, at the source's resolution: each forecast of a sample (the mean
//! load over the `sample_interval_s` that starts when the previous sample ends) against that mean
//! in the trace, MASE `Σ|y − ŷ| / n ÷ (Σ_t |y_t − y_{t−1}| / (T − 1))` (scaled by the one-step
//! naive error of the trace averaged the same way), and the share inside the forecast's 90 %
//! interval. A model that declines to forecast is not scored for that sample.
//!
//! ```
//! use replicast::sim::{simulate, Fleet, Trace};
//! use replicast::{Scaler, ScalerSpec};
//!
//! let trace = Trace::new((0..60).map(|i| i * 60).collect(), vec![100.0; 60]).unwrap();
//! let fleet = Fleet { capacity_per_replica: 10.0, startup_s: 120, decision_interval_s: 0,
//!                     min_replicas: 1, max_replicas: 50, initial_replicas: 15 };
//! let spec = ScalerSpec::from_yaml("min_replicas: 1\nmax_replicas: 50\nhpa: {metrics: [{type: resource, resource: cpu, target: {type: utilization, average_utilization: 70}}]}").unwrap();
//! let run = simulate(&trace, &fleet, &Scaler::new(spec).unwrap(), "hpa", &mut |_| {}).unwrap();
//! assert_eq!(run.timeline.ready.last(), Some(&15)); // 100 / (15 × 10) = 67 %: inside the tolerance
//! assert_eq!(run.scores.minutes_overloaded, 0.0);
//! ```

mod defaults;
mod trace;
mod tune;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

pub use defaults::{
    AUTO_PEAK_REPLICAS, PredictivePolicy, Provision, TARGET_UTILIZATION, default_policies,
    forecast_interval_s, policies_with, predictive_policy,
};
pub use trace::Trace;
pub use tune::{HeldOut, TuneGrid, TuneResult, tune};

use crate::decision::{Decision, DecisionInput, LoadSamples};
use crate::error::{Error, Result};
use crate::scaler::{Scaler, ScalerState};
use crate::source::hpa::MetricInput;
use crate::source::kpa::{KpaObservation, KpaSample};
use crate::spec::{KpaSpec, MetricSpec, TargetType};

/// The modelled fleet.
///
/// | field | unit | meaning |
/// | --- | --- | --- |
/// | `capacity_per_replica` | load units per step | what one ready replica serves at 100 % |
/// | `startup_s` | s | from a scale-up decision to serving |
/// | `decision_interval_s` | s | between decisions; 0 = `max(15, step)` |
/// | `min_replicas`, `max_replicas` | replicas | the oracle's bounds (policies have their own) |
/// | `initial_replicas` | replicas | ready at the start |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    /// Load one replica serves per step at 100 %.
    pub capacity_per_replica: f64,
    /// Start-up delay, seconds.
    pub startup_s: u32,
    /// Seconds between decisions (0: `max(15, step)`).
    pub decision_interval_s: u32,
    /// Lower bound for the oracle.
    pub min_replicas: u32,
    /// Upper bound for the oracle.
    pub max_replicas: u32,
    /// Ready replicas at the start.
    pub initial_replicas: u32,
}

impl Fleet {
    /// The capacity per replica at which the trace's peak needs `peak_replicas` replicas running
    /// at `target` utilization (e.g. 20 replicas at 0.7).
    ///
    /// ```
    /// let trace = replicast::sim::Trace::new(vec![0, 60], vec![70.0, 140.0]).unwrap();
    /// assert_eq!(replicast::sim::Fleet::auto_capacity(&trace, 20, 0.7), 10.0);
    /// ```
    #[must_use]
    pub fn auto_capacity(trace: &Trace, peak_replicas: u32, target: f64) -> f64 {
        trace.peak() / (f64::from(peak_replicas.max(1)) * target)
    }

    fn validate(&self) -> Result<()> {
        if !(self.capacity_per_replica.is_finite() && self.capacity_per_replica > 0.0) {
            return Err(Error::invalid_input(format!(
                "capacity_per_replica must be a finite number > 0, got {}",
                self.capacity_per_replica
            )));
        }
        if self.min_replicas > self.max_replicas || self.max_replicas == 0 {
            return Err(Error::invalid_input(format!(
                "fleet replicas must satisfy 1 <= max and min <= max, got min {} max {}",
                self.min_replicas, self.max_replicas
            )));
        }
        if self.initial_replicas == 0 {
            return Err(Error::invalid_input("initial_replicas must be >= 1"));
        }
        Ok(())
    }

    fn steps_per_decision(&self, trace: &Trace) -> usize {
        let step = trace.step_s().max(1);
        let interval = if self.decision_interval_s == 0 {
            step.max(15)
        } else {
            i64::from(self.decision_interval_s)
        };
        usize::try_from((interval + step - 1) / step)
            .unwrap_or(1)
            .max(1)
    }
}

/// What happened in every step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Start of each step, seconds.
    pub timestamps_s: Vec<i64>,
    /// Load of each step.
    pub load: Vec<f64>,
    /// Ready replicas during each step.
    pub ready: Vec<u32>,
    /// Provisioned (billed) replicas during each step.
    pub provisioned: Vec<u32>,
    /// Replicas the load needed at 100 % (`max(1, ceil(load / capacity))`).
    pub needed: Vec<u32>,
}

impl Timeline {
    /// The steps from `from` on.
    ///
    /// ```
    /// let t = replicast::sim::Timeline { load: vec![1.0, 2.0, 3.0], ..Default::default() };
    /// assert_eq!(t.tail(1).load, [2.0, 3.0]);
    /// ```
    #[must_use]
    pub fn tail(&self, from: usize) -> Timeline {
        let cut = |v: &[u32]| v.get(from..).unwrap_or_default().to_vec();
        Timeline {
            timestamps_s: self.timestamps_s.get(from..).unwrap_or_default().to_vec(),
            load: self.load.get(from..).unwrap_or_default().to_vec(),
            ready: cut(&self.ready),
            provisioned: cut(&self.provisioned),
            needed: cut(&self.needed),
        }
    }
}

/// The scores of one run (formulas in the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// θU: under-provisioning accuracy, percent of demand.
    pub theta_under_pct: f64,
    /// θO: over-provisioning accuracy, percent of demand.
    pub theta_over_pct: f64,
    /// τU: percent of time under-provisioned.
    pub tau_under_pct: f64,
    /// τO: percent of time over-provisioned.
    pub tau_over_pct: f64,
    /// υ: instability, percent.
    pub instability_pct: f64,
    /// Jitter: supply changes minus demand changes, per hour.
    pub jitter_per_hour: f64,
    /// Provisioned replica-hours.
    pub replica_hours: f64,
    /// Minutes with load above ready capacity.
    pub minutes_overloaded: f64,
    /// Load not served.
    pub load_dropped: f64,
    /// Load not served, percent of all load.
    pub load_dropped_pct: f64,
    /// Scaling actions per hour.
    pub actions_per_hour: f64,
    /// Direction changes per hour.
    pub direction_changes_per_hour: f64,
    /// MASE of the policy's one-step load forecasts (none when it does not forecast).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_mase: Option<f64>,
    /// Share of steps inside the policy's 90 % forecast interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_coverage90: Option<f64>,
}

/// One policy's replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The policy's name.
    pub policy: String,
    /// Step by step.
    pub timeline: Timeline,
    /// The scores.
    pub scores: Scores,
}

fn needed(load: f64, capacity: f64) -> u32 {
    let n = (load / capacity).ceil();
    if n >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        (n as u32).max(1)
    }
}

/// What each HPA metric (or KEDA trigger) is fed: the utilization, the load per ready replica,
/// or the total load.
#[derive(Debug, Clone, Copy)]
enum Fed {
    Utilization,
    PerReplica,
    Load,
}

/// The observation a policy gets at a decision: the load of the steps since the previous one
/// (`recent`, each `step_s` long), and the utilization their mean put on the ready replicas.
/// Built once per replay and updated in place, so that a decision allocates nothing.
#[derive(Debug)]
struct Observer<'a> {
    input: DecisionInput,
    fed: Vec<Fed>,
    kpa: Option<&'a KpaSpec>,
    step_s: i64,
}

impl<'a> Observer<'a> {
    fn new(scaler: &'a Scaler, step_s: i64) -> Self {
        // the HPA's metrics, or a KEDA ScaledObject's triggers: each sees the trace's load
        let spec = scaler.spec();
        let metric_specs = match (&spec.hpa, &spec.keda) {
            (Some(hpa), _) => Some(hpa.defaulted_metrics()),
            (None, Some(keda)) => Some(keda.trigger_metrics()),
            (None, None) => None,
        };
        let fed: Vec<Fed> = metric_specs
            .map(|specs| {
                specs
                    .iter()
                    .map(|m| match m.target().map(|t| t.kind) {
                        Some(TargetType::Utilization) => Fed::Utilization,
                        Some(TargetType::AverageValue)
                            if !matches!(
                                m,
                                MetricSpec::Object { .. } | MetricSpec::External { .. }
                            ) =>
                        {
                            Fed::PerReplica
                        }
                        _ => Fed::Load,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let input = DecisionInput {
            metrics: fed
                .iter()
                .map(|_| MetricInput::Aggregated {
                    value: 0.0,
                    ready_replicas: 0,
                })
                .collect(),
            load_samples: spec.predictive.as_ref().map(|_| LoadSamples {
                step_ms: step_s.saturating_mul(1000),
                values: Vec::new(),
            }),
            signals: ["cpu", "utilization", "load"]
                .into_iter()
                .map(|name| (name.to_owned(), 0.0))
                .collect(),
            kpa: spec.kpa.as_ref().map(|_| KpaObservation::default()),
            ..DecisionInput::default()
        };
        Self {
            input,
            fed,
            kpa: spec.kpa.as_ref(),
            step_s,
        }
    }

    fn observe(
        &mut self,
        now_ms: i64,
        provisioned: u32,
        ready: u32,
        recent: &[f64],
        capacity: f64,
    ) -> &DecisionInput {
        let load = recent.iter().sum::<f64>() / recent.len().max(1) as f64;
        let utilization = 100.0 * load / (f64::from(ready.max(1)) * capacity);
        let per_replica = load / f64::from(ready.max(1));
        let input = &mut self.input;
        input.now_ms = now_ms;
        input.current_replicas = provisioned;
        input.status_replicas = Some(provisioned);
        input.ready_replicas = Some(ready);
        for (metric, fed) in input.metrics.iter_mut().zip(&self.fed) {
            let value = match fed {
                Fed::Utilization => utilization,
                Fed::PerReplica => per_replica,
                Fed::Load => load,
            };
            *metric = MetricInput::Aggregated {
                value,
                ready_replicas: ready,
            };
        }
        if let Some(samples) = &mut input.load_samples {
            samples.values.clear();
            samples.values.extend_from_slice(recent);
        }
        // the threshold source's signals: `cpu` and `utilization` the same percentage
        for (name, value) in &mut input.signals {
            *value = if name == "load" { load } else { utilization };
        }
        if let (Some(kpa), Some(observation)) = (self.kpa, &mut input.kpa) {
            kpa_samples(kpa, now_ms, recent, self.step_s, &mut observation.samples);
        }
        &self.input
    }
}

/// The KPA's one-second scrapes over the steps since the previous decision, into `samples`:
/// each step's load held for its whole step (at most the last stable window of them, all the
/// windows read).
fn kpa_samples(
    kpa: &KpaSpec,
    now_ms: i64,
    recent: &[f64],
    step_s: i64,
    samples: &mut Vec<KpaSample>,
) {
    let now_s = now_ms.div_euclid(1000);
    let oldest_s = now_s - i64::from(kpa.stable_window_s) + 1;
    let n = recent.len() as i64;
    samples.clear();
    for (i, value) in recent.iter().enumerate() {
        let end_s = now_s - (n - 1 - i as i64) * step_s;
        let start_s = (end_s - step_s + 1).max(oldest_s);
        samples.extend((start_s..=end_s).map(|t| KpaSample {
            time_ms: t * 1000,
            value: *value,
        }));
    }
}

/// Replays `trace` through `scaler` on `fleet`. `progress` is called with the number of steps
/// done, every 1024 steps and at the end.
///
/// # Errors
/// [`crate::ErrorKind::InvalidInput`] for an unusable fleet; any error of a decision.
pub fn simulate(
    trace: &Trace,
    fleet: &Fleet,
    scaler: &Scaler,
    policy: &str,
    progress: &mut dyn FnMut(usize),
) -> Result<Run> {
    fleet.validate()?;
    let capacity = fleet.capacity_per_replica;
    let step_s = trace.step_s();
    let every = fleet.steps_per_decision(trace);
    // the replay reads only the replica count: decide without explanations, into one reused
    // decision, from one reused observation
    let quiet = scaler.quiet();
    let mut observer = Observer::new(scaler, step_s);
    let mut decision = Decision::blank(fleet.initial_replicas);
    let mut state = ScalerState::new();
    let mut provisioned = fleet.initial_replicas;
    let mut ready = fleet.initial_replicas;
    // replicas starting: (first step start at which they serve, count), oldest first
    let mut starting: VecDeque<(i64, u32)> = VecDeque::new();
    let n = trace.len();
    let mut timeline = Timeline {
        timestamps_s: Vec::with_capacity(n),
        load: Vec::with_capacity(n),
        ready: Vec::with_capacity(n),
        provisioned: Vec::with_capacity(n),
        needed: Vec::with_capacity(n),
    };
    let mut forecasts: Vec<crate::source::predictive::NextSample> = Vec::new();
    let mut last_decision = 0;
    for k in 0..n {
        let t = trace.timestamps_s()[k];
        while let Some(&(ready_at, count)) = starting.front() {
            if ready_at > t {
                break;
            }
            ready += count;
            starting.pop_front();
        }
        if k > 0 && k % every == 0 {
            let input = observer.observe(
                t.saturating_mul(1000),
                provisioned,
                timeline.ready[k - 1],
                &trace.values()[last_decision..k],
                capacity,
            );
            last_decision = k;
            let desired = quiet
                .decide_replicas(&mut state, input, &mut decision)
                .map_err(|e| e.context(format!("decision at t = {t} s")))?;
            // one forecast per sample: the model changes only when a sample completes, so it
            // is asked only when a new sample is pending (the forecast starts where it does)
            if let Some(start_ms) = state.next_sample_start_ms()
                && forecasts.last().is_none_or(|f| f.start_ms != start_ms)
                && let Some(forecast) = state.forecast_next(0.9)
            {
                forecasts.push(forecast);
            }
            if desired > provisioned {
                starting.push_back((t + i64::from(fleet.startup_s), desired - provisioned));
            } else {
                let mut remove = provisioned - desired;
                while remove > 0 {
                    let Some(last) = starting.back_mut() else {
                        break;
                    };
                    let cancelled = last.1.min(remove);
                    last.1 -= cancelled;
                    remove -= cancelled;
                    if last.1 == 0 {
                        starting.pop_back();
                    }
                }
                ready = ready.saturating_sub(remove);
            }
            provisioned = desired;
            // a replica whose start-up fits inside this step is ready now
            while let Some(&(ready_at, count)) = starting.front() {
                if ready_at > t {
                    break;
                }
                ready += count;
                starting.pop_front();
            }
        }
        let load = trace.values()[k];
        timeline.timestamps_s.push(t);
        timeline.load.push(load);
        timeline.ready.push(ready);
        timeline.provisioned.push(provisioned);
        timeline.needed.push(needed(load, capacity));
        if k % 1024 == 1023 {
            progress(k + 1);
        }
    }
    progress(n);
    let mut scores = score(&timeline, capacity, step_s);
    if let Some(predictive) = &scaler.spec().predictive {
        score_forecasts(
            trace,
            i64::from(predictive.sample_interval_s),
            &forecasts,
            &mut scores,
        );
    }
    Ok(Run {
        policy: policy.to_owned(),
        timeline,
        scores,
    })
}

/// MASE and 90 % coverage of one-step forecasts of samples `interval_s` long against the
/// trace's mean over each of them (forecasts of samples that end past the trace are left out).
fn score_forecasts(
    trace: &Trace,
    interval_s: i64,
    forecasts: &[crate::source::predictive::NextSample],
    scores: &mut Scores,
) {
    let (timestamps, values) = (trace.timestamps_s(), trace.values());
    let (Some(&first), Some(&last)) = (timestamps.first(), timestamps.last()) else {
        return;
    };
    let end_s = last + trace.step_s();
    // the trace's mean over [start, start + interval): steps that start inside the sample
    let mean_over = |start_s: i64| -> Option<f64> {
        if start_s < first || start_s + interval_s > end_s {
            return None;
        }
        let from = timestamps.partition_point(|&t| t < start_s);
        let to = timestamps.partition_point(|&t| t < start_s + interval_s);
        (to > from).then(|| values[from..to].iter().sum::<f64>() / (to - from) as f64)
    };
    let whole_samples = (end_s - first) / interval_s.max(1);
    let aggregated: Vec<f64> = (0..whole_samples)
        .filter_map(|i| mean_over(first + i * interval_s))
        .collect();
    let scored: Vec<(f64, &crate::source::predictive::NextSample)> = forecasts
        .iter()
        .filter_map(|f| Some((mean_over(f.start_ms.div_euclid(1000))?, f)))
        .collect();
    if scored.is_empty() || aggregated.len() < 2 {
        return;
    }
    let naive = aggregated
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .sum::<f64>()
        / (aggregated.len() - 1) as f64;
    let n = scored.len() as f64;
    let mae = scored.iter().map(|(y, f)| (y - f.point).abs()).sum::<f64>() / n;
    let inside = scored
        .iter()
        .filter(|(y, f)| (f.lower..=f.upper).contains(y))
        .count() as f64;
    scores.forecast_mase = (naive > 0.0).then_some(mae / naive);
    scores.forecast_coverage90 = Some(inside / n);
}

/// The oracle: perfect foresight of load and start-up delay (the cost floor).
///
/// # Errors
/// [`crate::ErrorKind::InvalidInput`] for an unusable fleet.
pub fn oracle(trace: &Trace, fleet: &Fleet) -> Result<Run> {
    fleet.validate()?;
    let capacity = fleet.capacity_per_replica;
    let step_s = trace.step_s().max(1);
    let lead_steps =
        usize::try_from((i64::from(fleet.startup_s) + step_s - 1) / step_s).unwrap_or(0);
    let needed: Vec<u32> = trace
        .values()
        .iter()
        .map(|&l| needed(l, capacity))
        .collect();
    let ready: Vec<u32> = needed
        .iter()
        .map(|&n| n.clamp(fleet.min_replicas.max(1), fleet.max_replicas))
        .collect();
    // a replica needed within the next start-up delay is already starting, and billed
    let provisioned: Vec<u32> = (0..ready.len())
        .map(|k| {
            let end = (k + lead_steps).min(ready.len() - 1);
            ready[k..=end].iter().copied().max().unwrap_or(ready[k])
        })
        .collect();
    let timeline = Timeline {
        timestamps_s: trace.timestamps_s().to_vec(),
        load: trace.values().to_vec(),
        ready,
        provisioned,
        needed,
    };
    let scores = score(&timeline, capacity, trace.step_s());
    Ok(Run {
        policy: "oracle".to_owned(),
        timeline,
        scores,
    })
}

/// Scores a timeline (formulas in the module documentation).
#[must_use]
pub fn score(timeline: &Timeline, capacity: f64, step_s: i64) -> Scores {
    let t = timeline.load.len();
    if t == 0 {
        return Scores::default();
    }
    let tf = t as f64;
    let step_h = step_s as f64 / 3600.0;
    let hours = tf * step_h;
    let mut s = Scores::default();
    let mut total_load = 0.0;
    for k in 0..t {
        let supply = f64::from(timeline.ready[k]);
        let demand = f64::from(timeline.needed[k]);
        s.theta_under_pct += (demand - supply).max(0.0) / demand;
        s.theta_over_pct += (supply - demand).max(0.0) / demand;
        s.tau_under_pct += f64::from(u8::from(demand > supply));
        s.tau_over_pct += f64::from(u8::from(supply > demand));
        s.replica_hours += f64::from(timeline.provisioned[k]) * step_h;
        let served = supply * capacity;
        let load = timeline.load[k];
        total_load += load;
        if load > served {
            s.minutes_overloaded += step_s as f64 / 60.0;
            s.load_dropped += load - served;
        }
    }
    for v in [
        &mut s.theta_under_pct,
        &mut s.theta_over_pct,
        &mut s.tau_under_pct,
        &mut s.tau_over_pct,
    ] {
        *v *= 100.0 / tf;
    }
    s.load_dropped_pct = if total_load > 0.0 {
        100.0 * s.load_dropped / total_load
    } else {
        0.0
    };
    let sign = |a: u32, b: u32| i32::from(b > a) - i32::from(b < a);
    let mut unstable = 0usize;
    let mut supply_changes = 0usize;
    let mut demand_changes = 0usize;
    for k in 1..t {
        let ds = sign(timeline.ready[k - 1], timeline.ready[k]);
        let dd = sign(timeline.needed[k - 1], timeline.needed[k]);
        unstable += usize::from(ds != dd);
        supply_changes += usize::from(ds != 0);
        demand_changes += usize::from(dd != 0);
    }
    if t > 1 {
        s.instability_pct = 100.0 * unstable as f64 / (tf - 1.0);
    }
    s.jitter_per_hour = (supply_changes as f64 - demand_changes as f64) / hours;
    let mut actions = 0usize;
    let mut flips = 0usize;
    let mut last_direction = 0;
    for k in 1..t {
        let d = sign(timeline.provisioned[k - 1], timeline.provisioned[k]);
        if d != 0 {
            actions += 1;
            if last_direction != 0 && d != last_direction {
                flips += 1;
            }
            last_direction = d;
        }
    }
    s.actions_per_hour = actions as f64 / hours;
    s.direction_changes_per_hour = flips as f64 / hours;
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ScalerSpec;

    /// The replay decides on a quiet copy of the scaler; every kind of source must come to the
    /// same replicas and the same state as the explained `decide`, decision after decision.
    #[test]
    fn quiet_decisions_match_explained_ones() {
        let values: Vec<f64> = (0..900)
            .map(|i| {
                let burst = if (300..360).contains(&(i % 450)) {
                    400.0
                } else {
                    0.0
                };
                (60.0 + 50.0 * (f64::from(i) / 40.0).sin() + burst).max(0.0)
            })
            .collect();
        let trace = Trace::new((0..900).map(|i| i * 60).collect(), values).unwrap();
        let fleet = Fleet::for_trace(&trace, 10.0, 120, 0, 100);
        let mut specs: Vec<ScalerSpec> = default_policies(&fleet, trace.step_s())
            .unwrap()
            .into_iter()
            .map(|(_, spec)| spec)
            .collect();
        for yaml in [
            "min_replicas: 0\nmax_replicas: 100\nkpa: {target: 10}\n",
            "min_replicas: 0\nmax_replicas: 100\nkeda:\n  cooldown_period_s: 300\n  triggers: [{type: prometheus, name: rps, target: 7, activation_target: 5}]\n",
            "min_replicas: 2\nmax_replicas: 30\nhpa:\n  metrics:\n    - {type: resource, resource: cpu, target: {type: utilization, average_utilization: 60}}\nbehavior:\n  scale_down: {stabilization_window_s: 300, policies: [{type: pods, value: 1, period_s: 60}]}\n",
        ] {
            specs.push(ScalerSpec::from_yaml(yaml).unwrap());
        }
        for spec in specs {
            let scaler = Scaler::new(spec).unwrap();
            let quiet = scaler.quiet();
            let mut observer = Observer::new(&scaler, trace.step_s());
            let (mut explained_state, mut quiet_state) = (ScalerState::new(), ScalerState::new());
            let mut scratch = Decision::blank(0);
            let (mut current, mut rescales) = (5, 0);
            for k in 1..trace.len() {
                let input = observer.observe(
                    trace.timestamps_s()[k] * 1000,
                    current,
                    current,
                    &trace.values()[k - 1..k],
                    10.0,
                );
                let explained = scaler.decide(&mut explained_state, input).unwrap();
                let replicas = quiet
                    .decide_replicas(&mut quiet_state, input, &mut scratch)
                    .unwrap();
                assert_eq!(replicas, explained.replicas, "{:?} at {k}", scaler.spec());
                assert_eq!(quiet_state, explained_state, "{:?} at {k}", scaler.spec());
                assert!(scratch.proposals.is_empty() && scratch.conditions.is_empty());
                rescales += usize::from(explained.rescale);
                current = replicas;
            }
            assert!(rescales > 2, "{:?} never scaled", scaler.spec());
        }
    }
}
