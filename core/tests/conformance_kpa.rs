//! Conformance: every vector of every `testdata/vectors/kpa/*.json` file through the public API
//! (`replicast::kpa`).
//!
//! Each vector group is run by the function of the same name; the test prints how many passed
//! per group and fails on any mismatch or on a group it does not know.
//!
//! Conventions of the vectors, and how they are read here:
//! * decider specs give Knative's `DeciderSpec` values (`TargetValue`, `TotalValue`,
//!   `PanicThreshold`, ...); they are expressed as a [`KpaSpec`] whose target resolution gives
//!   exactly those values (checked), e.g. `TotalValue = "TargetValue/0.75"` becomes the target
//!   annotation `TargetValue/0.75` at 75 % utilization;
//! * `excessBurstCapacity` is compared within ±1, as the upstream test compares it;
//! * relative times (`"now-5s"`), seconds since Go's zero time (`scale_down_delay`), and the
//!   scale-to-zero start states written in words go through the explicit tables below;
//! * weighted-exponential averages are formulas in `a`, evaluated here for the vector's alpha
//!   and compared within a relative 1e-12 (the formula's multiplication order is not the
//!   implementation's); smoothing coefficients are given to 5 decimals and compared to 5e-6.

use std::collections::BTreeMap;

use replicast::kpa::window::{MaxWindow, WindowAverager, smoothing_coefficient};
use replicast::kpa::{
    ActiveStatus, Aggregation, InvalidReason, Kpa, KpaAverages, KpaInput, KpaMetric, KpaSpec,
    KpaState, ReconcileInput, ScaleInput, scrape_sample_size,
};
use replicast::time::GO_ZERO_TIME_MS;
use serde_json::Value;

mod vectors;

use vectors::Outcome;

/// The instant relative vector times count from (a whole, even second).
const T0_MS: i64 = 1_700_000_000_000;

fn run_vector(vector: &Value) -> Outcome {
    match vector["group"].as_str().unwrap_or_default() {
        // the derived vectors are decider tables with production defaults
        "scale_table" | "derived" => scale_table(vector),
        "scale_sequence" => scale_sequence(vector),
        "scale_down_delay" => scale_down_delay(vector),
        "creation" => creation(vector),
        "target_resolution" => target_resolution(vector),
        "window_averaging" => window_averaging(vector),
        "max_time_window" => max_time_window(vector),
        "sample_size" => sample_size(vector),
        "scale_to_zero" => scale_to_zero(vector),
        other => Err(format!("unknown vector group {other:?}")),
    }
}

#[test]
fn every_kpa_vector_passes() {
    vectors::assert_none_failed(&vectors::run_all("kpa", run_vector));
}

// ---- helpers -------------------------------------------------------------------------------

fn f(v: &Value, key: &str) -> Result<f64, String> {
    v[key]
        .as_f64()
        .ok_or_else(|| format!("missing number {key:?} in {v}"))
}

fn u(v: &Value, key: &str) -> Result<u32, String> {
    v[key]
        .as_u64()
        .map(|x| x as u32)
        .ok_or_else(|| format!("missing count {key:?} in {v}"))
}

fn ms(seconds: f64) -> i64 {
    (seconds * 1000.0).round() as i64
}

// the compared values are small and read better by value at the call sites
#[allow(clippy::needless_pass_by_value)]
fn expect_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Outcome {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

/// Upstream's test compares the excess burst capacity within ±1.
fn expect_ebc(got: Option<i32>, want: &Value) -> Outcome {
    let Some(want) = want.as_i64() else {
        return Ok(());
    };
    match got {
        Some(g) if (i64::from(g) - want).abs() <= 1 => Ok(()),
        _ => Err(format!(
            "excess burst capacity: got {got:?}, want {want} ± 1"
        )),
    }
}

/// A Knative `DeciderSpec` (as the vectors give it) as a [`KpaSpec`] resolving to exactly its
/// `TargetValue` and `TotalValue`.
fn decider_spec(s: &Value) -> Result<KpaSpec, String> {
    let target = f(s, "TargetValue")?;
    let (total, utilization) = match &s["TotalValue"] {
        Value::String(text) if text == "TargetValue/0.75" => (target / 0.75, 75.0),
        Value::Number(n) => {
            let total = n.as_f64().unwrap_or_default();
            (total, target / total * 100.0)
        }
        Value::Null => (target, 100.0),
        other => return Err(format!("unknown TotalValue {other}")),
    };
    let mut spec = KpaSpec {
        target: Some(total),
        target_utilization_percentage: Some(utilization),
        target_burst_capacity: s["TargetBurstCapacity"].as_f64().unwrap_or(0.0),
        max_scale_up_rate: f(s, "MaxScaleUpRate")?,
        max_scale_down_rate: f(s, "MaxScaleDownRate")?,
        panic_threshold_percentage: f(s, "PanicThreshold")? * 100.0,
        reachable: s["Reachable"].as_bool().unwrap_or(false),
        ..KpaSpec::default()
    };
    if let Some(w) = s["StableWindow_s"].as_u64() {
        spec.stable_window_s = w as u32;
    }
    if let Some(d) = s["ScaleDownDelay_s"].as_u64() {
        spec.scale_down_delay_s = d as u32;
    }
    if let Some(a) = s["ActivationScale"].as_u64() {
        spec.activation_scale = a as u32;
    }
    match s["metric"].as_str() {
        None | Some("concurrency") => {}
        Some("rps") => spec.metric = KpaMetric::Rps,
        Some(other) => return Err(format!("unknown metric {other}")),
    }
    Ok(spec)
}

/// [`decider_spec`] validated, with its resolution checked against the vector.
fn decider(s: &Value) -> Result<Kpa, String> {
    let spec = decider_spec(s)?;
    let kpa = Kpa::new(spec).map_err(|e| format!("spec rejected: {e}"))?;
    let (target, total) = (f(s, "TargetValue")?, kpa.total_value());
    expect_eq("resolved TargetValue", kpa.target_value(), target)?;
    if let Some(want_total) = s["TotalValue"].as_f64() {
        expect_eq("resolved TotalValue", total, want_total)?;
    }
    Ok(kpa)
}

/// `"now-5s"` → `now − 5000`.
fn relative_time(text: &str, now: i64) -> Result<i64, String> {
    let seconds = text
        .strip_prefix("now-")
        .and_then(|s| s.strip_suffix('s'))
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or_else(|| format!("unknown relative time {text:?}"))?;
    Ok(now - ms(seconds))
}

// ---- the decider -----------------------------------------------------------------------------

fn scale_table(v: &Value) -> Outcome {
    let inputs = &v["inputs"];
    let expected = &v["expected"];
    let kpa = decider(&inputs["spec"])?;
    let now = T0_MS;
    let creation = inputs["readyPodsAtCreation"].as_u64().map(|r| r as u32);
    let mut state = kpa.new_state(now - 60_000, creation.or(Some(0)));
    if let Some(panic) = inputs["state"].as_object() {
        let since = relative_time(panic["panicTime"].as_str().unwrap_or_default(), now)?;
        let max = panic["maxPanicPods"].as_i64().unwrap_or_default() as i32;
        state = state.with_panic(since, max);
    }
    if inputs["metricClientError"].is_string() {
        // no averages and nothing recorded: the collector has no data
        let out = kpa
            .scale(
                &mut state,
                &ScaleInput {
                    now_ms: now,
                    ready_pods: Some(1),
                    averages: None,
                },
            )
            .map_err(|e| e.to_string())?;
        expect_eq("valid", out.is_valid(), false)?;
        expect_eq("invalid reason", out.invalid, Some(InvalidReason::NoData))?;
        // upstream returns the zero ScaleResult; the decision in effect stays the initial −1
        return expect_eq("decision in effect", state.desired_scale(), -1);
    }
    let out = kpa
        .scale(
            &mut state,
            &ScaleInput {
                now_ms: now,
                ready_pods: Some(u(inputs, "readyPods")?),
                averages: Some(KpaAverages {
                    stable: f(inputs, "stable")?,
                    panic: f(inputs, "panic")?,
                }),
            },
        )
        .map_err(|e| e.to_string())?;
    expect_eq(
        "desired pods",
        out.desired_pod_count,
        Some(expected["desiredPodCount"].as_i64().unwrap_or(-99) as i32),
    )?;
    expect_ebc(out.excess_burst_capacity, &expected["excessBurstCapacity"])?;
    if let Some(valid) = expected["valid"].as_bool() {
        expect_eq("valid", out.is_valid(), valid)?;
    }
    if let Some(p) = expected["panicking_after"].as_bool() {
        expect_eq("panicking", out.panicking, p)?;
    }
    Ok(())
}

fn scale_sequence(v: &Value) -> Outcome {
    let inputs = &v["inputs"];
    let mut kpa = decider(&inputs["spec"])?;
    let creation = u(inputs, "readyPodsAtCreation")?;
    let mut state = kpa.new_state(T0_MS, Some(creation));
    let results = v["expected"]["results"].as_array().ok_or("no results")?;
    let mut result = results.iter();
    for step in inputs["steps"].as_array().ok_or("no steps")? {
        if let Some(update) = step.get("update") {
            // the decider's spec changes; its state carries on
            let mut spec = inputs["spec"].clone();
            for (k, val) in update.as_object().ok_or("bad update")? {
                spec[k] = val.clone();
            }
            kpa = decider(&spec)?;
            continue;
        }
        let want = result.next().ok_or("more steps than results")?;
        let now = T0_MS + ms(f(step, "t")?);
        let ready = u(step, "ready")?;
        let decision = kpa
            .decide(
                &mut state,
                &KpaInput {
                    now_ms: now,
                    ready_pods: Some(ready),
                    current_replicas: ready,
                    averages: Some(KpaAverages {
                        stable: f(step, "stable")?,
                        panic: f(step, "panic")?,
                    }),
                    ..KpaInput::default()
                },
            )
            .map_err(|e| e.to_string())?;
        let t = f(step, "t")?;
        let out = decision.scale;
        expect_eq(
            &format!("t={t} desired pods"),
            out.desired_pod_count,
            Some(want["desiredPodCount"].as_i64().unwrap_or(-99) as i32),
        )?;
        expect_ebc(out.excess_burst_capacity, &want["excessBurstCapacity"])
            .map_err(|e| format!("t={t} {e}"))?;
        expect_eq(
            &format!("t={t} panicking"),
            out.panicking,
            want["panicking_after"].as_bool().unwrap_or_default(),
        )?;
    }
    expect_eq("unused results", result.next().is_none(), true)
}

fn scale_down_delay(v: &Value) -> Outcome {
    let inputs = &v["inputs"];
    let kpa = decider(&inputs["spec"])?;
    // times count from Go's zero time, as in the upstream test
    let mut state = kpa.new_state(GO_ZERO_TIME_MS, Some(u(inputs, "readyPods")?));
    let results = v["expected"]["results"].as_array().ok_or("no results")?;
    let steps = inputs["steps"].as_array().ok_or("no steps")?;
    expect_eq("results per step", results.len(), steps.len())?;
    for (step, want) in steps.iter().zip(results) {
        let t = f(step, "t")?;
        let value = f(step, "v")?;
        let out = kpa
            .scale(
                &mut state,
                &ScaleInput {
                    now_ms: GO_ZERO_TIME_MS + ms(t),
                    ready_pods: Some(u(inputs, "readyPods")?),
                    averages: Some(KpaAverages {
                        stable: value,
                        panic: value,
                    }),
                },
            )
            .map_err(|e| e.to_string())?;
        let desired = want["desiredPodCount"].as_i64().unwrap_or(-99) as i32;
        expect_eq(
            &format!("t={t} desired pods"),
            out.desired_pod_count,
            Some(desired),
        )?;
        expect_eq(&format!("t={t} want"), desired, u(step, "want")? as i32)?;
    }
    Ok(())
}

fn creation(v: &Value) -> Outcome {
    let inputs = &v["inputs"];
    let expected = &v["expected"];
    let kpa = Kpa::new(KpaSpec::default()).map_err(|e| e.to_string())?;
    let ready = if inputs["readyPodsAtCreationError"].as_bool() == Some(true) {
        None
    } else {
        Some(u(inputs, "readyPodsAtCreation")?)
    };
    let state = kpa.new_state(T0_MS, ready);
    expect_eq(
        "max panic pods",
        i64::from(state.max_panic_pods()),
        expected["maxPanicPods"].as_i64().unwrap_or(-99),
    )?;
    expect_eq(
        "panicking",
        state.panicking(),
        expected["panicking"].as_bool().unwrap_or(true),
    )
}

fn target_resolution(v: &Value) -> Outcome {
    let inputs = &v["inputs"];
    let config = &inputs["config"];
    let cluster = KpaSpec {
        // a fraction in (0, 1] is accepted as such, as Knative's legacy rule does
        container_concurrency_target_percentage: f(config, "ContainerConcurrencyTargetFraction")?,
        container_concurrency_target_default: f(config, "ContainerConcurrencyTargetDefault")?,
        requests_per_second_target_default: f(config, "RPSTargetDefault")?,
        rps_target_utilization_percentage: f(config, "TargetUtilization")? * 100.0,
        container_concurrency: u(inputs, "containerConcurrency")?,
        ..KpaSpec::default()
    };
    let mut annotations = BTreeMap::new();
    let group = "autoscaling.knative.dev/";
    annotations.insert(
        format!("{group}metric"),
        inputs["metric"].as_str().unwrap_or_default().to_owned(),
    );
    if let Some(t) = inputs["targetAnnotation"].as_str() {
        annotations.insert(format!("{group}target"), t.to_owned());
    }
    if let Some(t) = inputs["targetUtilizationPercentageAnnotation"].as_str() {
        annotations.insert(
            format!("{group}target-utilization-percentage"),
            t.to_owned(),
        );
    }
    let spec = KpaSpec::from_annotations(&annotations, &cluster).map_err(|e| e.to_string())?;
    let (target, total) = spec.resolve_target();
    let expected = &v["expected"];
    expect_eq("target", target, f(expected, "target")?)?;
    expect_eq("total", total, f(expected, "total")?)?;
    // and a Kpa built from it decides on the same values
    let kpa = Kpa::new(spec).map_err(|e| e.to_string())?;
    expect_eq("kpa target", kpa.target_value(), target)
}

// ---- the windows -----------------------------------------------------------------------------

/// Evaluates the vectors' weighted-average formulas: a sum of terms `Ka`, `Ka(1-a)`,
/// `Ka(1-a)^N`, or `0`.
fn eval_formula(formula: &str, a: f64) -> Result<f64, String> {
    if formula == "0" {
        return Ok(0.0);
    }
    let mut sum = 0.0;
    for term in formula.split('+') {
        let (coef, rest) = term
            .split_once('a')
            .ok_or_else(|| format!("bad term {term:?}"))?;
        let coef: f64 = coef
            .parse()
            .map_err(|_| format!("bad coefficient {coef:?}"))?;
        let power = match rest {
            "" => 0,
            "(1-a)" => 1,
            _ => rest
                .strip_prefix("(1-a)^")
                .and_then(|p| p.parse::<i32>().ok())
                .ok_or_else(|| format!("bad factor {rest:?}"))?,
        };
        sum += coef * a * (1.0 - a).powi(power);
    }
    Ok(sum)
}

fn window_averaging(v: &Value) -> Outcome {
    let inputs = &v["inputs"];
    let expected = &v["expected"];
    if let Some(n) = inputs["numBuckets"].as_u64() {
        let got = smoothing_coefficient(n as u32);
        let want = f(expected, "alpha")?;
        return if (got - want).abs() <= 5e-6 {
            Ok(())
        } else {
            Err(format!("smoothing coefficient: got {got}, want {want}"))
        };
    }
    let window_s = u(inputs, "window_s")?;
    expect_eq("granularity", f(inputs, "granularity_s")?, 1.0)?;
    let aggregation = if inputs["alpha"].is_number() {
        Aggregation::WeightedExponential
    } else {
        Aggregation::Linear
    };
    let mut window = WindowAverager::new(window_s).map_err(|e| e.to_string())?;
    let mut averages = Vec::new();
    for op in inputs["ops"].as_array().ok_or("no ops")? {
        let op = op.as_array().ok_or("bad op")?;
        let time = T0_MS + ms(op[1].as_f64().ok_or("bad time")?);
        match op[0].as_str() {
            Some("record") => {
                window
                    .record(time, op[2].as_f64().ok_or("bad value")?)
                    .map_err(|e| e.to_string())?;
            }
            Some("avg") => averages.push(window.average(time, aggregation)),
            other => return Err(format!("unknown op {other:?}")),
        }
    }
    if let Some(formulas) = expected["averages_formula"].as_array() {
        let alpha = f(inputs, "alpha")?;
        let got_alpha = smoothing_coefficient(window_s);
        expect_eq("alpha", got_alpha, alpha)?;
        expect_eq("averages", averages.len(), formulas.len())?;
        for (i, (got, formula)) in averages.iter().zip(formulas).enumerate() {
            let want = eval_formula(formula.as_str().unwrap_or_default(), alpha)?;
            if (got - want).abs() > 1e-12 * want.abs().max(1.0) {
                return Err(format!("average {i}: got {got}, want {want} ({formula})"));
            }
        }
        return Ok(());
    }
    let want: Vec<f64> = expected["averages"]
        .as_array()
        .ok_or("no averages")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    expect_eq("averages", averages, want)
}

fn max_time_window(v: &Value) -> Outcome {
    let inputs = &v["inputs"];
    let mut window = MaxWindow::new(u(inputs, "duration_s")?, u(inputs, "granularity_s")?)
        .map_err(|e| e.to_string())?;
    for record in inputs["records"].as_array().ok_or("no records")? {
        let t = record[0].as_f64().ok_or("bad time")?;
        let value = record[1].as_i64().ok_or("bad value")? as i32;
        window.record(T0_MS + ms(t), value);
    }
    expect_eq(
        "current",
        i64::from(window.current()),
        v["expected"]["current"].as_i64().unwrap_or(-99),
    )
}

fn sample_size(v: &Value) -> Outcome {
    expect_eq(
        "sample size",
        scrape_sample_size(u(&v["inputs"], "population")?),
        u(&v["expected"], "sampleSize")?,
    )
}

// ---- the reconciler ------------------------------------------------------------------------

/// The start states the `scale_to_zero` vectors describe in words, as state changes at `now`
/// for a stable window of `stable_s` and a grace period of `grace_s`.
fn start_state(
    phrase: Option<&str>,
    state: KpaState,
    now: i64,
    stable_s: i64,
    grace_s: i64,
) -> Result<KpaState, String> {
    let s = |seconds: i64| now - seconds * 1000;
    Ok(match phrase {
        // no state given: the new PodAutoscaler's Activating
        None => state,
        Some("Active for stableWindow-1s") => {
            state.with_active(ActiveStatus::Active, s(stable_s - 1))
        }
        Some("Active for stableWindow") => state.with_active(ActiveStatus::Active, s(stable_s)),
        Some("Inactive for grace") => state
            .with_active(ActiveStatus::Inactive, s(grace_s))
            .with_sks_proxy_since(None),
        Some("Inactive for grace-1s" | "Inactive for grace-1s, reachable") => state
            .with_active(ActiveStatus::Inactive, s(grace_s - 1))
            .with_sks_proxy_since(None),
        Some("Inactive for grace-1s, SKS proxy for grace") => state
            .with_active(ActiveStatus::Inactive, s(grace_s - 1))
            .with_sks_proxy_since(Some(s(grace_s))),
        Some("Inactive now") => state
            .with_active(ActiveStatus::Inactive, now)
            .with_sks_proxy_since(None),
        Some("Activating for 121s+30s+1s") => {
            state.with_active(ActiveStatus::Activating, s(121 + 30 + 1))
        }
        Some("Activating") => state.with_active(ActiveStatus::Activating, now),
        Some(other) => return Err(format!("unknown start state {other:?}")),
    })
}

fn scale_to_zero(v: &Value) -> Outcome {
    let inputs = &v["inputs"];
    let expected = &v["expected"];
    let stable_s = i64::from(u(inputs, "stableWindow_s")?);
    let grace_s = i64::from(u(inputs, "gracePeriod_s")?);
    expect_eq(
        "activation timeout buffer",
        f(inputs, "activationTimeoutBuffer_s")? as i64,
        replicast::kpa::ACTIVATION_TIMEOUT_BUFFER_S,
    )?;
    let spec = KpaSpec {
        stable_window_s: stable_s as u32,
        scale_to_zero_grace_period_s: grace_s as f64,
        progress_deadline_s: f(inputs, "progressDeadline_s")?,
        scale_to_zero_pod_retention_period_s: inputs["podRetention_s"].as_f64().unwrap_or(0.0),
        target_burst_capacity: inputs["TBC"].as_f64().unwrap_or(211.0),
        min_scale: inputs["minScale"].as_u64().unwrap_or(0) as u32,
        max_scale: inputs["maxScale"].as_u64().unwrap_or(0) as u32,
        initial_scale: inputs["initialScale"].as_u64().unwrap_or(1) as u32,
        ..KpaSpec::default()
    };
    let kpa = Kpa::new(spec).map_err(|e| e.to_string())?;
    let now = T0_MS;
    let start = u(inputs, "startReplicas")?;
    let state = kpa.new_state(now, Some(start));
    let mut state = start_state(inputs["state"].as_str(), state, now, stable_s, grace_s)?;
    let probe_fails = inputs["activatorProbe"].as_str() == Some("error");
    let out = kpa
        .reconcile(
            &mut state,
            &ReconcileInput {
                now_ms: now,
                ready_pods: start,
                current_replicas: start,
                desired_scale: Some(inputs["desired"].as_i64().ok_or("no desired")? as i32),
                excess_burst_capacity: None,
                sks_proxy_since_ms: None,
                activator_in_path: probe_fails.then_some(false),
            },
        )
        .map_err(|e| e.to_string())?;
    expect_eq(
        "replicas",
        i64::from(out.want),
        expected["replicas"].as_i64().unwrap_or(-99),
    )?;
    expect_eq(
        "scaled",
        out.rescale,
        expected["scaled"].as_bool().unwrap_or_default(),
    )?;
    if let Some(probe) = expected["asyncProbeStarted"].as_bool() {
        expect_eq("async probe started", out.probe_activator, probe)?;
    }
    Ok(())
}
