//! `replicast`: the command-line front of the replicast decision core.
//!
//! ```text
//! replicast recommend --spec hpa.yaml --input observation.json [--state state.json] [--json]
//! replicast validate --spec FILE [--json]
//! replicast backtest [--trace FILE] [--spec FILE ...] [--capacity N|auto] [--startup 120s] [--json] [--plot out.png]
//! replicast forecast-eval [--trace FILE] [--json] [--origins FILE] [--auto KEY=VALUE ...]
//! ```

/// Writes to standard output like `print!`, returning an error from the calling function when
/// stdout fails; a closed pipe (`replicast ... | head`) ends the process quietly with success, as a
/// reader that stopped reading is not a failure of the command.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))?
    };
}

/// [`out!`] with a newline.
macro_rules! outln {
    () => { out!("\n") };
    ($($arg:tt)*) => {
        out!("{}\n", format_args!($($arg)*))
    };
}

mod backtest;
mod plot;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use replicast::{DecisionInput, Scaler, ScalerSpec, ScalerState};

/// Predictive scaling decisions: Kubernetes-exact HPA, threshold hysteresis, explained.
#[derive(Debug, Parser)]
#[command(name = "replicast", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decide the replicas for one observation and explain why.
    Recommend {
        /// Spec file: replicast YAML/JSON; an HPA, VerticalPodAutoscaler, KEDA ScaledObject or Knative Service manifest (several in one file with `---`); or the seed's threshold YAML.
        #[arg(long)]
        spec: PathBuf,
        /// Observation file (JSON `DecisionInput`); `-` reads standard input.
        #[arg(long)]
        input: PathBuf,
        /// State file carrying history between runs: read if it exists, written after the decision.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Print the decision as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replay a load trace (the bundled one by default) through policies and score them.
    Backtest {
        /// Trace: CSV `timestamp,value`, or a Prometheus `query_range` JSON response (`.json`).
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Policy spec files (repeatable); default: the seed's HPA and threshold policies.
        #[arg(long = "spec")]
        specs: Vec<PathBuf>,
        /// The default predictive policy's knobs, comma-separated: `backstop=PCT` (the reactive
        /// HPA's target), then either `slo=PCT,cost=RATIO` (overload budget, cost bound) or
        /// `target=PCT,quantile=Q,peak=U` (a fixed quantile), `startup=SECONDS`, and `phases=0`
        /// (one headroom all hour, not shared out by the minute of the hour).
        #[arg(long, value_name = "KNOBS", conflicts_with = "specs")]
        predictive: Option<String>,
        /// Load one replica serves per trace step at 100 %, or `auto` (the peak needs 20 replicas at 70 %).
        #[arg(long)]
        capacity: Option<String>,
        /// Time from a scale-up decision until the new replica serves.
        #[arg(long, default_value = "120s")]
        startup: String,
        /// Time between decisions (default: max(15 s, the trace step)).
        #[arg(long)]
        interval: Option<String>,
        /// Print the scores as JSON.
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Print the scores as a Markdown table.
        #[arg(long)]
        markdown: bool,
        /// Write the chart here (PNG, or SVG for `.svg`); default `backtest.png` unless --json.
        #[arg(long)]
        plot: Option<PathBuf>,
        /// Do not write a chart.
        #[arg(long, conflicts_with = "plot")]
        no_plot: bool,
    },
    /// Search HPA and predictive parameters for the cheapest policy meeting an overload SLO on a history; print it as a spec.
    Tune {
        /// Trace: CSV `timestamp,value`, or a Prometheus `query_range` JSON response (`.json`); default: the bundled one.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Percent of time not overloaded to guarantee (99.9 allows 0.1 % overloaded).
        #[arg(long, default_value_t = 99.9)]
        slo: f64,
        /// Load one replica serves per trace step at 100 %, or `auto`.
        #[arg(long)]
        capacity: Option<String>,
        /// Time from a scale-up decision until the new replica serves.
        #[arg(long, default_value = "120s")]
        startup: String,
        /// Largest replica count a policy may use.
        #[arg(long, default_value_t = 100)]
        max_replicas: u32,
        /// Percent of the trace, at its end, held back from the search to score the pick on.
        #[arg(long, default_value_t = 25.0)]
        held_out: f64,
    },
    /// Rolling-origin accuracy of replicast's automatic forecaster on a trace, against seasonal naive.
    ForecastEval {
        /// Trace: CSV `timestamp,value`, or a Prometheus `query_range` JSON response (`.json`).
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Print the scores as JSON.
        #[arg(long)]
        json: bool,
        /// Also write each origin's errors here, as CSV `origin,horizon_s,mae,mae_seasonal_naive`
        /// (origin: index in the series at the evaluation's step).
        #[arg(long, value_name = "FILE")]
        origins: Option<PathBuf>,
        /// Set one of the automatic model's constants chosen on the shared traces for this run
        /// (repeatable): outlier_k, min_acf, long_history_margin, combination_weight,
        /// correction_lags, correction_mean_weights (a comma-separated list, or `none`).
        /// Their meaning and ranges: `replicast::forecast::Auto`.
        #[arg(long = "auto", value_name = "KEY=VALUE")]
        auto: Vec<String>,
    },
    /// Check a spec file and print it in replicast's own format.
    Validate {
        /// Spec file to check.
        #[arg(long)]
        spec: PathBuf,
        /// Print the normalised spec as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("replicast: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What [`out!`] does: one write to the locked stdout.
pub(crate) fn write_stdout(text: std::fmt::Arguments) -> Result<(), String> {
    use std::io::Write;
    match std::io::stdout().lock().write_fmt(text) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(format!("cannot write to standard output: {e}")),
    }
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Recommend {
            spec,
            input,
            state,
            json,
        } => recommend(&spec, &input, state.as_deref(), json),
        Command::Backtest {
            trace,
            specs,
            predictive,
            capacity,
            startup,
            interval,
            json,
            markdown,
            plot,
            no_plot,
        } => {
            let plot = match (plot, no_plot || json || markdown) {
                (Some(path), _) => Some(path),
                (None, false) => Some(PathBuf::from("backtest.png")),
                (None, true) => None,
            };
            backtest::run(&backtest::Options {
                trace,
                specs,
                predictive,
                capacity,
                startup,
                interval,
                json,
                markdown,
                plot,
            })
        }
        Command::Tune {
            trace,
            slo,
            capacity,
            startup,
            max_replicas,
            held_out,
        } => backtest::tune(
            trace.as_deref(),
            slo,
            capacity.as_deref(),
            &startup,
            max_replicas,
            held_out,
        ),
        Command::ForecastEval {
            trace,
            json,
            origins,
            auto,
        } => backtest::forecast_eval(trace.as_deref(), json, origins.as_deref(), &auto),
        Command::Validate { spec: path, json } => {
            let spec = load_spec(&path)?;
            // the seed's presets file holds several specs under repeated keys: show each
            let text = read(&path)?;
            if let Ok(presets) = replicast::spec::seed_presets(&text)
                && presets.len() > 1
                && !json
            {
                for (name, preset) in &presets {
                    outln!(
                        "preset {name}: replicas {}..={}, sources: {}",
                        preset.min_replicas,
                        preset.max_replicas,
                        describe_sources(preset)
                    );
                }
                outln!(
                    "(a plain YAML reader keeps the last preset, {})",
                    presets[presets.len() - 1].0
                );
            }
            if json {
                outln!("{}", spec.to_json());
            } else {
                outln!(
                    "valid: replicas {}..={}, sources: {}",
                    spec.min_replicas,
                    spec.max_replicas,
                    describe_sources(&spec)
                );
            }
            Ok(())
        }
    }
}

pub(crate) fn read(path: &Path) -> Result<String, String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

pub(crate) fn load_spec(path: &Path) -> Result<ScalerSpec, String> {
    let text = read(path)?;
    let is_json = path.extension().is_some_and(|e| e == "json");
    let spec = if is_json {
        ScalerSpec::from_json(&text)
    } else {
        ScalerSpec::from_yaml(&text)
    };
    spec.map_err(|e| format!("{}: {e}", path.display()))
}

fn describe_sources(spec: &ScalerSpec) -> String {
    let mut sources = Vec::new();
    if let Some(hpa) = &spec.hpa {
        sources.push(format!("hpa ({} metrics)", hpa.defaulted_metrics().len()));
    }
    if let Some(keda) = &spec.keda {
        let triggers: Vec<String> = keda
            .triggers
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{} {}", t.kind, t.label(i)))
            .collect();
        let mut parts = vec![format!(
            "keda ({} triggers: {}; cooldown {}s",
            keda.triggers.len(),
            triggers.join(", "),
            keda.cooldown_period_s
        )];
        if let Some(idle) = keda.idle_replica_count {
            parts.push(format!("idle {idle}"));
        }
        if let Some(f) = &keda.fallback {
            parts.push(format!(
                "fallback {} replicas after {} failures",
                f.replicas, f.failure_threshold
            ));
        }
        if let Some(m) = &keda.scaling_modifiers {
            parts.push(format!("formula {:?} target {}", m.formula, m.target));
        }
        sources.push(format!("{})", parts.join(", ")));
    }
    if let Some(kpa) = &spec.kpa {
        let (target, total) = kpa.resolve_target();
        sources.push(format!(
            "kpa ({}, target {target} of {total} per pod, stable window {}s, panic window {}s at {} %, scale-to-zero {})",
            kpa.metric.as_str(),
            kpa.stable_window_s,
            kpa.panic_window_s(),
            kpa.panic_threshold_percentage,
            if kpa.enable_scale_to_zero && spec.min_replicas == 0 {
                format!("after {}s of grace", kpa.scale_to_zero_grace_period_s)
            } else {
                "off".to_owned()
            }
        ));
    }
    if let Some(threshold) = &spec.threshold {
        sources.push(format!("threshold ({} rules)", threshold.rules.len()));
    }
    if let Some(p) = &spec.predictive {
        sources.push(match &p.slo {
            Some(slo) => format!(
                "predictive (slo: overloaded at most {} % of the time, cost at most {} × a reactive {} % target's)",
                slo.max_overloaded_pct,
                slo.max_cost_ratio,
                p.target_utilization * 100.0
            ),
            None => format!("predictive (q{} of the forecast)", p.quantile),
        });
    }
    if let Some(vpa) = &spec.vpa {
        let r = &vpa.recommender;
        let policies: Vec<&str> = vpa
            .container_policies
            .iter()
            .map(|p| p.container_name.as_str())
            .collect();
        sources.push(format!(
            "vpa (update mode {}, target p{} cpu / p{} memory, margin {}, {} container policies{})",
            serde_json::to_value(vpa.update_mode)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            r.target_cpu_percentile * 100.0,
            r.target_memory_percentile * 100.0,
            r.safety_margin_fraction,
            policies.len(),
            if policies.is_empty() {
                String::new()
            } else {
                format!(": {}", policies.join(", "))
            }
        ));
    }
    if spec.behavior.is_some() {
        sources.push("behavior".to_owned());
    }
    if let Some(c) = &spec.cooldown {
        sources.push(format!(
            "cooldown up {}s / down {}s",
            c.scale_up_s, c.scale_down_s
        ));
    }
    sources.join(", ")
}

fn recommend(spec: &Path, input: &Path, state: Option<&Path>, json: bool) -> Result<(), String> {
    let scaler = Scaler::new(load_spec(spec)?).map_err(|e| e.to_string())?;
    let input_text = read(input)?;
    let observation: DecisionInput = serde_json::from_str(&input_text)
        .map_err(|e| format!("{}: invalid observation: {e}", input.display()))?;
    let mut scaler_state = match state {
        Some(path) if path.exists() => {
            ScalerState::from_json(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?
        }
        _ => ScalerState::new(),
    };
    let decision = scaler
        .decide(&mut scaler_state, &observation)
        .map_err(|e| e.to_string())?;
    if let Some(path) = state {
        std::fs::write(path, scaler_state.to_json())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if json {
        let text = serde_json::to_string_pretty(&decision).map_err(|e| e.to_string())?;
        outln!("{text}");
    } else {
        out!("{decision}");
    }
    Ok(())
}
