//! `replicast backtest`: replay a trace through policies, print the scores, draw the chart.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use replicast::Scaler;
use replicast::sim::{
    AUTO_PEAK_REPLICAS, Fleet, PredictivePolicy, Provision, Run, TARGET_UTILIZATION, Trace, oracle,
    policies_with, simulate,
};
use serde::Serialize;

use crate::{load_spec, read};

/// The trace replayed when none is given: a week of NASA-HTTP requests per minute
/// (`testdata/traces/README.md` has its origin).
const BUNDLED_TRACE: &str = include_str!("../../testdata/traces/nasa_http_1995jul10-16_1min.csv");
const BUNDLED_TRACE_NAME: &str = "nasa_http_1995jul10-16_1min (bundled)";

/// What the command was asked.
#[derive(Debug)]
pub(crate) struct Options {
    pub trace: Option<PathBuf>,
    pub specs: Vec<PathBuf>,
    pub predictive: Option<String>,
    pub capacity: Option<String>,
    pub startup: String,
    pub interval: Option<String>,
    pub json: bool,
    pub markdown: bool,
    pub plot: Option<PathBuf>,
}

/// The JSON output.
#[derive(Debug, Serialize)]
struct Report<'a> {
    trace: &'a str,
    step_s: i64,
    capacity_per_replica: f64,
    fleet: &'a Fleet,
    runs: Vec<Summary<'a>>,
}

#[derive(Debug, Serialize)]
struct Summary<'a> {
    policy: &'a str,
    scores: &'a replicast::sim::Scores,
}

/// Seconds from `120s`, `2m`, `90`.
pub(crate) fn parse_duration_s(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => {
            return Err(format!(
                "invalid duration {text:?}: expected e.g. 120s, 2m or 1h"
            ));
        }
    };
    number
        .parse::<u32>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("invalid duration {text:?}: expected e.g. 120s, 2m or 1h"))
}

fn load_trace(path: Option<&Path>) -> Result<(Trace, String), String> {
    let Some(path) = path else {
        let trace = Trace::from_csv(BUNDLED_TRACE).map_err(|e| e.to_string())?;
        return Ok((trace, BUNDLED_TRACE_NAME.to_owned()));
    };
    let text = read(path)?;
    let trace = if path.extension().is_some_and(|e| e == "json") {
        Trace::from_prometheus_json(&text)
    } else {
        Trace::from_csv(&text)
    };
    trace
        .map(|t| (t, path.display().to_string()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The predictive policy's knobs from `backstop=83,slo=0.05,cost=1` (or `target=`, `quantile=`,
/// `peak=` for a fixed quantile; `startup=` seconds; `phases=0` for one headroom all hour),
/// starting from the default policy.
fn predictive_knobs(text: &str, startup_s: u32) -> Result<PredictivePolicy, String> {
    let mut knobs = PredictivePolicy::default_for(startup_s);
    let (mut slo, mut cost) = (None, None);
    let (mut target, mut quantile, mut peak) = (None, None, None);
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("--predictive: expected KEY=VALUE, got {pair:?}"))?;
        let number = value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("--predictive: {key} must be a number, got {value:?}"))?;
        match key.trim() {
            "backstop" => knobs.backstop_pct = number as i32,
            "startup" => knobs.startup_s = number as u32,
            "slo" => slo = Some(number),
            "cost" => cost = Some(number),
            "target" => target = Some(number as i32),
            "quantile" => quantile = Some(number),
            "peak" => peak = Some(number),
            "phases" if number == 0.0 || number == 1.0 => knobs.phase_of_hour = number == 1.0,
            "phases" => {
                return Err(format!(
                    "--predictive: phases must be 1 (headroom by the minute of the hour) or 0, got {value:?}"
                ));
            }
            other => {
                return Err(format!(
                    "--predictive: unknown knob {other:?} (backstop, slo, cost, target, quantile, peak, startup, phases)"
                ));
            }
        }
    }
    let fixed = target.is_some() || quantile.is_some() || peak.is_some();
    knobs.provision = match (fixed, knobs.provision) {
        (true, _) if slo.is_some() || cost.is_some() => {
            return Err(
                "--predictive: give slo/cost (a calibrated headroom) or target/quantile/peak (a fixed quantile), not both"
                    .to_owned(),
            );
        }
        (true, _) => Provision::Quantile {
            target_pct: target.unwrap_or(knobs.backstop_pct),
            quantile: quantile.unwrap_or(0.99),
            peak_utilization: peak.unwrap_or(0.885),
        },
        (
            false,
            Provision::Slo {
                max_overloaded_pct,
                max_cost_ratio,
            },
        ) => Provision::Slo {
            max_overloaded_pct: slo.unwrap_or(max_overloaded_pct),
            max_cost_ratio: cost.unwrap_or(max_cost_ratio),
        },
        (false, quantile) => quantile,
    };
    Ok(knobs)
}

fn policies(
    specs: &[PathBuf],
    predictive: Option<&str>,
    fleet: &Fleet,
    step_s: i64,
) -> Result<Vec<(String, Scaler)>, String> {
    if specs.is_empty() {
        let knobs = predictive_knobs(predictive.unwrap_or(""), fleet.startup_s)?;
        return policies_with(fleet, step_s, &knobs)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(name, spec)| Ok((name, Scaler::new(spec).map_err(|e| e.to_string())?)))
            .collect();
    }
    specs
        .iter()
        .map(|path| {
            let name = path.file_stem().map_or_else(
                || path.display().to_string(),
                |s| s.to_string_lossy().into_owned(),
            );
            let scaler =
                Scaler::new(load_spec(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((name, scaler))
        })
        .collect()
}

fn capacity(trace: &Trace, capacity: Option<&str>) -> Result<f64, String> {
    Ok(match capacity {
        None | Some("auto") => Fleet::auto_capacity(trace, AUTO_PEAK_REPLICAS, TARGET_UTILIZATION),
        Some(n) => n
            .parse::<f64>()
            .ok()
            .filter(|c| c.is_finite() && *c > 0.0)
            .ok_or_else(|| format!("--capacity must be a number > 0 or auto, got {n:?}"))?,
    })
}

fn fleet(
    trace: &Trace,
    capacity: f64,
    startup_s: u32,
    interval_s: u32,
    max_replicas: u32,
) -> Fleet {
    Fleet::for_trace(trace, capacity, startup_s, interval_s, max_replicas)
}

/// `replicast tune`: prints the cheapest HPA or predictive spec that meets the SLO on the first
/// part of the trace, as YAML, with its figures there and on the held-back tail.
pub(crate) fn tune(
    trace: Option<&Path>,
    slo: f64,
    capacity_arg: Option<&str>,
    startup: &str,
    max_replicas: u32,
    held_out_pct: f64,
) -> Result<(), String> {
    let (trace, trace_name) = load_trace(trace)?;
    let capacity = capacity(&trace, capacity_arg)?;
    let fleet = fleet(
        &trace,
        capacity,
        parse_duration_s(startup)?,
        0,
        max_replicas,
    );
    let grid = replicast::sim::TuneGrid::default();
    let total = grid.size(&fleet, slo);
    let bar = ProgressBar::new(total as u64);
    let result = replicast::sim::tune(&trace, &fleet, slo, &grid, held_out_pct, &mut |n| {
        bar.set_position(n as u64);
    })
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let yaml = serde_yaml_ng::to_string(&result.spec).map_err(|e| e.to_string())?;
    let s = &result.scores;
    let hours = |steps: usize| steps as f64 * trace.step_s() as f64 / 3600.0;
    let tail_steps = result.held_out.as_ref().map_or(0, |h| h.steps);
    outln!(
        "# replicast tune on {trace_name}: cheapest of {} HPA and predictive configurations ({} met the SLO)",
        result.tried,
        result.feasible
    );
    outln!(
        "# SLO {slo} % of time not overloaded; capacity {capacity:.3} per replica per step, start-up {} s",
        fleet.startup_s
    );
    outln!(
        "# chosen on the first {:.1} h: {:.1} replica-hours, {:.0} minutes overloaded, {:.3} % of load dropped",
        hours(trace.len() - tail_steps),
        s.replica_hours,
        s.minutes_overloaded,
        s.load_dropped_pct
    );
    match &result.held_out {
        Some(h) => outln!(
            "# on the last {:.1} h, held back from the search: {:.1} replica-hours, {:.0} minutes overloaded (the SLO allows {:.1}: {}), {:.3} % of load dropped",
            hours(h.steps),
            h.scores.replica_hours,
            h.scores.minutes_overloaded,
            h.allowed_minutes,
            if h.meets_slo { "met" } else { "missed" },
            h.scores.load_dropped_pct
        ),
        None => outln!("# nothing held back (--held-out 0): in-sample figures only"),
    }
    out!("{yaml}");
    Ok(())
}

/// Runs the command.
pub(crate) fn run(options: &Options) -> Result<(), String> {
    let (trace, trace_name) = load_trace(options.trace.as_deref())?;
    let capacity = capacity(&trace, options.capacity.as_deref())?;
    let interval_s = options
        .interval
        .as_deref()
        .map(parse_duration_s)
        .transpose()?
        .unwrap_or(0);
    let fleet = fleet(
        &trace,
        capacity,
        parse_duration_s(&options.startup)?,
        interval_s,
        100_000,
    );
    let policies = policies(
        &options.specs,
        options.predictive.as_deref(),
        &fleet,
        trace.step_s(),
    )?;
    let bar = ProgressBar::new((trace.len() * policies.len()) as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} steps")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    let mut runs: Vec<Run> = Vec::new();
    for (i, (name, scaler)) in policies.iter().enumerate() {
        bar.set_message(name.clone());
        let offset = (i * trace.len()) as u64;
        let run = simulate(&trace, &fleet, scaler, name, &mut |done| {
            bar.set_position(offset + done as u64);
        })
        .map_err(|e| format!("policy {name}: {e}"))?;
        runs.push(run);
    }
    bar.finish_and_clear();
    runs.push(oracle(&trace, &fleet).map_err(|e| e.to_string())?);

    if options.json {
        let report = Report {
            trace: &trace_name,
            step_s: trace.step_s(),
            capacity_per_replica: capacity,
            fleet: &fleet,
            runs: runs
                .iter()
                .map(|r| Summary {
                    policy: &r.policy,
                    scores: &r.scores,
                })
                .collect(),
        };
        outln!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else if options.markdown {
        print_markdown(&trace, &trace_name, &fleet, &runs)?;
    } else {
        print_table(&trace, &trace_name, &fleet, &runs)?;
    }
    if let Some(path) = &options.plot {
        crate::plot::draw(path, &trace_name, &fleet, &runs)?;
        if !options.json {
            outln!("chart written to {}", path.display());
        }
    }
    Ok(())
}

/// The score columns, headed and formatted once for both the text and the Markdown tables.
const COLUMNS: [&str; 13] = [
    "replica-h",
    "overload-m",
    "dropped%",
    "θU%",
    "θO%",
    "τU%",
    "τO%",
    "υ%",
    "jitter/h",
    "actions/h",
    "flips/h",
    "fc-MASE",
    "fc-cov90",
];

fn score_cells(s: &replicast::sim::Scores) -> [String; 13] {
    let optional = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
    [
        format!("{:.1}", s.replica_hours),
        format!("{:.0}", s.minutes_overloaded),
        format!("{:.3}", s.load_dropped_pct),
        format!("{:.2}", s.theta_under_pct),
        format!("{:.1}", s.theta_over_pct),
        format!("{:.2}", s.tau_under_pct),
        format!("{:.1}", s.tau_over_pct),
        format!("{:.2}", s.instability_pct),
        format!("{:.2}", s.jitter_per_hour),
        format!("{:.2}", s.actions_per_hour),
        format!("{:.2}", s.direction_changes_per_hour),
        optional(s.forecast_mase),
        optional(s.forecast_coverage90),
    ]
}

fn print_table(trace: &Trace, name: &str, fleet: &Fleet, runs: &[Run]) -> Result<(), String> {
    let hours = trace.len() as f64 * trace.step_s() as f64 / 3600.0;
    outln!(
        "trace {name}: {} steps of {} s ({hours:.1} h), peak {}",
        trace.len(),
        trace.step_s(),
        trace.peak()
    );
    outln!(
        "fleet: capacity {:.3} per replica per step, start-up {} s, {} replicas at start",
        fleet.capacity_per_replica,
        fleet.startup_s,
        fleet.initial_replicas
    );
    outln!();
    // long policy names (a spec file's name) widen the first column instead of shifting rows
    let name_width = runs
        .iter()
        .map(|r| r.policy.len() + 1)
        .max()
        .unwrap_or(0)
        .max(12);
    let row = |first: &str, cells: &[String]| -> Result<(), String> {
        let widths = cells.iter().map(|cell| format!(" {cell:>10}"));
        outln!("{first:<name_width$}{}", widths.collect::<String>());
        Ok(())
    };
    row("policy", &COLUMNS.map(str::to_owned))?;
    for run in runs {
        row(&run.policy, &score_cells(&run.scores))?;
    }
    Ok(())
}

fn print_markdown(trace: &Trace, name: &str, fleet: &Fleet, runs: &[Run]) -> Result<(), String> {
    let hours = trace.len() as f64 * trace.step_s() as f64 / 3600.0;
    outln!(
        "{name}: {} steps of {} s ({hours:.1} h), peak {}; capacity {:.4} per replica per step, start-up {} s\n",
        trace.len(),
        trace.step_s(),
        trace.peak(),
        fleet.capacity_per_replica,
        fleet.startup_s
    );
    outln!("| policy | {} |", COLUMNS.join(" | "));
    outln!("|---|{}", "---|".repeat(COLUMNS.len()));
    for run in runs {
        outln!(
            "| {} | {} |",
            run.policy,
            score_cells(&run.scores).join(" | ")
        );
    }
    Ok(())
}

/// Writes `forecast-eval --origins`' CSV.
fn write_origin_errors(
    path: &Path,
    errors: &[replicast::forecast::OriginError],
) -> Result<(), String> {
    use std::io::Write;
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(fail)?);
    writeln!(out, "origin,horizon_s,mae,mae_seasonal_naive").map_err(fail)?;
    for e in errors {
        writeln!(
            out,
            "{},{},{},{}",
            e.origin, e.horizon_s, e.mae, e.mae_seasonal_naive
        )
        .map_err(fail)?;
    }
    out.flush().map_err(fail)
}

/// The keys of `forecast-eval --auto`: the automatic model's constants chosen on the shared
/// traces (`scripts/forecast_loto.py` sweeps them).
const AUTO_KEYS: [&str; 6] = [
    "outlier_k",
    "min_acf",
    "long_history_margin",
    "combination_weight",
    "correction_lags",
    "correction_mean_weights",
];

/// `auto` with the `--auto KEY=VALUE` settings applied, each at most once, and checked by
/// [`replicast::forecast::Auto::validate`].
fn auto_settings(
    mut auto: replicast::forecast::Auto,
    settings: &[String],
) -> Result<replicast::forecast::Auto, String> {
    let mut seen = Vec::with_capacity(settings.len());
    for setting in settings {
        let (key, value) = setting
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .ok_or_else(|| format!("--auto: expected KEY=VALUE, got {setting:?}"))?;
        if !AUTO_KEYS.contains(&key) {
            return Err(format!(
                "--auto: unknown key {key:?} (one of {})",
                AUTO_KEYS.join(", ")
            ));
        }
        if seen.contains(&key) {
            return Err(format!("--auto: {key} given twice"));
        }
        seen.push(key);
        let number = |v: &str| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("--auto: {key} must be a number, got {value:?}"))
        };
        match key {
            "outlier_k" => auto.outlier_k = number(value)?,
            "min_acf" => auto.min_acf = number(value)?,
            "long_history_margin" => auto.long_history_margin = number(value)?,
            "combination_weight" => auto.combination_weight = number(value)?,
            "correction_lags" => {
                auto.correction_lags = value.parse().map_err(|_| {
                    format!("--auto: correction_lags must be 1 or 2, got {value:?}")
                })?;
            }
            "correction_mean_weights" => {
                auto.correction_mean_weights = if value.is_empty() || value == "none" {
                    Vec::new()
                } else {
                    value.split(',').map(number).collect::<Result<_, _>>().map_err(|_| {
                        format!(
                            "--auto: correction_mean_weights must be numbers separated by commas, or none, got {value:?}"
                        )
                    })?
                };
            }
            _ => unreachable!("AUTO_KEYS is matched above"),
        }
    }
    auto.validate().map_err(|e| format!("--auto: {e}"))?;
    Ok(auto)
}

/// `replicast forecast-eval`: the rolling-origin scores of the automatic model, with timings.
pub(crate) fn forecast_eval(
    trace: Option<&Path>,
    json: bool,
    origins: Option<&Path>,
    settings: &[String],
) -> Result<(), String> {
    use replicast::forecast::{Auto, EvalConfig, Fit, ModelSpec, Update, evaluate, regularize};
    // settings are checked before the trace is read: a typo fails at once
    let auto = auto_settings(Auto::default(), settings)?;
    let (trace, name) = load_trace(trace)?;
    let step_s = u64::try_from(trace.step_s()).map_err(|e| e.to_string())?;
    let timestamps_ms: Vec<i64> = trace.timestamps_s().iter().map(|t| t * 1000).collect();
    let auto = Auto { step_s, ..auto };
    let config = EvalConfig {
        model: ModelSpec::Auto(auto.clone()),
        record_origins: origins.is_some(),
        ..EvalConfig::default()
    };
    let started = std::time::Instant::now();
    let mut report =
        evaluate(&timestamps_ms, trace.values(), &config).map_err(|e| e.to_string())?;
    let total_s = started.elapsed().as_secs_f64();
    if let Some(path) = origins {
        write_origin_errors(path, &report.origin_errors)?;
        // the file has them; the report stays the size it always was
        report.origin_errors = Vec::new();
    }
    // the cost of one refit (at most four days of history, at the evaluation's step: finer
    // data was averaged) and of one update, measured apart; the refit is the median of five
    let step_ms = i64::try_from(report.step_s * 1000).map_err(|e| e.to_string())?;
    let values = regularize(&timestamps_ms, trace.values(), Some(step_ms))
        .map_err(|e| e.to_string())?
        .values;
    let auto = Auto {
        step_s: report.step_s,
        ..auto
    };
    let n = values.len();
    let window = usize::try_from(4 * 86_400 / report.step_s.max(1))
        .unwrap_or(n)
        .min(n * 3 / 4);
    let history = &values[n * 3 / 4 - window..n * 3 / 4];
    let mut times = Vec::with_capacity(5);
    let mut fitted = None;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        fitted = Some(auto.fit(history).map_err(|e| e.to_string())?);
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let refit_ms = times[2];
    let mut fitted = fitted.ok_or("no fit")?;
    let tail = &values[n * 3 / 4..];
    let started = std::time::Instant::now();
    for &y in tail {
        fitted.update(y).map_err(|e| e.to_string())?;
    }
    let update_us = started.elapsed().as_secs_f64() * 1e6 / tail.len().max(1) as f64;
    if json {
        let mut doc = serde_json::json!({
            "trace": name, "step_s": trace.step_s(), "model": "auto",
            "evaluation": report, "refit_ms": refit_ms, "update_us": update_us, "total_s": total_s,
        });
        // the settings, only when given (the default document is what it always was)
        if !settings.is_empty() {
            doc["auto"] = serde_json::json!({
                "outlier_k": auto.outlier_k,
                "min_acf": auto.min_acf,
                "long_history_margin": auto.long_history_margin,
                "combination_weight": auto.combination_weight,
                "correction_lags": auto.correction_lags,
                "correction_mean_weights": auto.correction_mean_weights,
            });
        }
        outln!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    outln!(
        "{name}: {} origins, seasonal-naive period {} samples, {} updates and {} refits in {total_s:.2} s; {} origins declined (scored as the last value)",
        report.origins,
        report.season,
        report.updates,
        report.refits,
        report.no_forecast
    );
    if !settings.is_empty() {
        outln!("automatic model's settings: {}", settings.join(" "));
    }
    outln!("refit on up to 4 days (median of 5): {refit_ms:.2} ms; one update: {update_us:.3} µs");
    outln!(
        "{:<8} {:>8} {:>8} {:>8} {:>8}",
        "horizon",
        "relMAE",
        "MASE",
        "sMAPE",
        "cov90"
    );
    for h in &report.horizons {
        if let Some(why) = &h.skipped {
            outln!("{:<8} {why}", format!("{}s", h.horizon_s));
            continue;
        }
        outln!(
            "{:<8} {:>8.3} {:>8.3} {:>8.2} {:>8.3}",
            format!("{}s", h.horizon_s),
            h.rel_mae,
            h.mase,
            h.smape,
            h.coverage
        );
    }
    Ok(())
}
