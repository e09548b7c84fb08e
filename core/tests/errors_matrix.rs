//! The bad-input matrix (issue 13 item 2): every class of bad input, at every entry point, with
//! the error kind and message the Rust core gives (`testdata/vectors/api/errors.json`). The C
//! ABI (`ffi/tests/errors_matrix.rs`), Go (`ffi/go/replicast/errors_matrix_test.go`) and Python
//! (`python/tests/test_errors_matrix.py`) run the same file and must refuse each case with the
//! same kind and a message containing `message_contains`; `docs/errors.md` is generated from it
//! by `scripts/errors-doc.py`.
//!
//! `UPDATE_GOLDEN=1 cargo test -p replicast --test errors_matrix` rewrites the file and the doc
//! (running `scripts/errors-doc.py`); otherwise the test fails when either is stale.
//!
//! A case is `{name, class, call, about, <the call's arguments>, expected}`. The calls and their
//! arguments (numbers written `"NaN"`, `"inf"` or `"-inf"` are those non-finite values):
//!
//! | call | arguments | Rust entry point |
//! | --- | --- | --- |
//! | `spec` | `spec_json` (text) | `ScalerSpec::from_json`, then `Scaler::new` |
//! | `decide` | `spec`, `state_json`?, `before`?, `input` | `DecisionInput::from_json`, `Scaler::decide` (after deciding each of `before`) |
//! | `decide_aggregated` | `spec`, `before`?, `input` (`now_ms`, `current_replicas`, `ready_replicas`), `values` | `Scaler::decide` with one aggregated metric input per value (the C hot path) |
//! | `state` | `state_json` | `ScalerState::from_json` |
//! | `fit` | `model`, `series` | `ModelSpec::from_json`, `Fit::fit` |
//! | `update` | `model`, `series`, `value` | `Update::update` on the model fitted to `series` |
//! | `predict` | `model`, `series`, `horizon`, `level` (0: none) | `Predict::predict` on the fitted model |
//! | `model_json` | `model_json` | `FittedModel::from_json` |
//! | `trace` | `timestamps_s`, `values` | `sim::Trace::new` (the backtest's trace) |
//! | `trace_csv` | `csv` | `sim::Trace::from_csv` (the CLI's trace reader) |
//! | `vpa_checkpoint` | `spec`, `checkpoint` (text) | `VerticalPodAutoscalerCheckpoint::from_text`, `VpaState::load_checkpoint` |
//!
//! `expected` is `{kind, message, message_contains}`: `kind` is an `ErrorKind` name (or `ok`
//! for an input that is accepted), `message` the whole Rust message, `message_contains` the part
//! every binding's message must contain. A binding that refuses the input before it reaches the
//! core (Python converts its arguments first) has its own `{kind, message_contains}` under its
//! name (`expected.python`).

// the case helpers take `json!` values built in place
#![allow(clippy::needless_pass_by_value)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value, json};

use replicast::forecast::{Fit, FittedModel, ModelSpec, Predict, Update};
use replicast::hpa::MetricInput;
use replicast::sim::Trace;
use replicast::vpa::{VerticalPodAutoscalerCheckpoint, Vpa, VpaState};
use replicast::{DecisionInput, Error, Scaler, ScalerSpec, ScalerState};

const T0: i64 = 1_700_000_000_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// A spec file in replicast's own JSON form.
fn spec_of(path: &str) -> Value {
    let spec = ScalerSpec::from_yaml(&read(path)).unwrap();
    serde_json::from_str(&spec.to_json()).unwrap()
}

/// `"NaN"`, `"inf"`, `"-inf"` or a number.
fn float(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => other
            .as_f64()
            .unwrap_or_else(|| panic!("not a number: {other}")),
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(float).collect()
}

/// What running a case gives: the outcome, and the serialised state (or model) before and
/// after a refused call, which must be equal.
struct Run {
    outcome: Result<(), Error>,
    before: Option<String>,
    after: Option<String>,
}

impl Run {
    fn stateless(outcome: Result<(), Error>) -> Self {
        Self {
            outcome,
            before: None,
            after: None,
        }
    }
}

fn scaler(case: &Value) -> Scaler {
    Scaler::new(ScalerSpec::from_value(case["spec"].clone()).unwrap()).unwrap()
}

/// The state a decide case starts from: `state_json` or a fresh one, then each of `before`.
fn prepared_state(scaler: &Scaler, case: &Value) -> ScalerState {
    let mut state = match case["state_json"].as_str() {
        Some(text) => ScalerState::from_json(text).unwrap(),
        None => ScalerState::new(),
    };
    for input in case["before"].as_array().into_iter().flatten() {
        let input = DecisionInput::from_json(&input.to_string()).unwrap();
        scaler.decide(&mut state, &input).unwrap();
    }
    state
}

/// The C hot path's observation: one aggregated input per value.
fn aggregated_input(input: &Value, values: &[f64]) -> DecisionInput {
    let ready = u32::try_from(input["ready_replicas"].as_u64().unwrap()).unwrap();
    DecisionInput {
        now_ms: input["now_ms"].as_i64().unwrap(),
        current_replicas: u32::try_from(input["current_replicas"].as_u64().unwrap()).unwrap(),
        ready_replicas: Some(ready),
        metrics: values
            .iter()
            .map(|&value| MetricInput::Aggregated {
                value,
                ready_replicas: ready,
            })
            .collect(),
        ..DecisionInput::default()
    }
}

fn fitted(case: &Value) -> FittedModel {
    ModelSpec::from_json(&case["model"].to_string())
        .unwrap()
        .fit(&floats(&case["series"]))
        .unwrap()
}

/// Runs one case through the Rust entry points.
fn run(case: &Value) -> Run {
    let text = |key: &str| case[key].as_str().unwrap().to_owned();
    match case["call"].as_str().unwrap() {
        "spec" => Run::stateless(
            ScalerSpec::from_json(&text("spec_json"))
                .and_then(Scaler::new)
                .map(|_| ()),
        ),
        call @ ("decide" | "decide_aggregated") => {
            let scaler = scaler(case);
            let mut state = prepared_state(&scaler, case);
            let before = state.to_json();
            let outcome = if call == "decide" {
                DecisionInput::from_json(&case["input"].to_string())
                    .and_then(|input| scaler.decide(&mut state, &input))
            } else {
                let input = aggregated_input(&case["input"], &floats(&case["values"]));
                scaler.decide(&mut state, &input)
            };
            Run {
                outcome: outcome.map(|_| ()),
                before: Some(before),
                after: Some(state.to_json()),
            }
        }
        "state" => Run::stateless(ScalerState::from_json(&text("state_json")).map(|_| ())),
        "fit" => Run::stateless(
            ModelSpec::from_json(&case["model"].to_string())
                .and_then(|spec| spec.fit(&floats(&case["series"])))
                .map(|_| ()),
        ),
        "update" => {
            let mut model = fitted(case);
            let before = serde_json::to_string(&model).unwrap();
            let outcome = model.update(float(&case["value"]));
            Run {
                outcome,
                before: Some(before),
                after: Some(serde_json::to_string(&model).unwrap()),
            }
        }
        "predict" => {
            let model = fitted(case);
            let horizon = usize::try_from(case["horizon"].as_u64().unwrap()).unwrap();
            let level = float(&case["level"]);
            let level = (level != 0.0).then_some(level);
            Run::stateless(model.predict(horizon, level).map(|_| ()))
        }
        "model_json" => Run::stateless(FittedModel::from_json(&text("model_json")).map(|_| ())),
        "trace" => {
            let timestamps = case["timestamps_s"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_i64().unwrap())
                .collect();
            Run::stateless(Trace::new(timestamps, floats(&case["values"])).map(|_| ()))
        }
        "trace_csv" => Run::stateless(Trace::from_csv(&text("csv")).map(|_| ())),
        "vpa_checkpoint" => {
            let spec = ScalerSpec::from_value(case["spec"].clone()).unwrap();
            let vpa = Vpa::new(spec.vpa.unwrap()).unwrap();
            let mut state = VpaState::new();
            let before = state.to_json();
            let outcome =
                VerticalPodAutoscalerCheckpoint::from_text(&text("checkpoint")).and_then(|cp| {
                    state.load_checkpoint(&vpa, &cp.spec.container_name, &cp.status, T0)
                });
            Run {
                outcome,
                before: Some(before),
                after: Some(state.to_json()),
            }
        }
        other => panic!("unknown call {other}"),
    }
}

/// One case as the generator writes it: the arguments, and the part of the message every
/// binding shares (checked against Rust's message here).
struct Case {
    name: String,
    class: &'static str,
    call: &'static str,
    about: &'static str,
    args: Value,
    contains: &'static str,
    /// Per binding: `{kind, message_contains}` where it refuses before the core does.
    overrides: Map<String, Value>,
}

/// The case builder.
#[derive(Default)]
struct Cases(Vec<Case>);

impl Cases {
    fn add(
        &mut self,
        name: &str,
        class: &'static str,
        call: &'static str,
        about: &'static str,
        args: Value,
        contains: &'static str,
    ) -> &mut Case {
        self.0.push(Case {
            name: name.to_owned(),
            class,
            call,
            about,
            args,
            contains,
            overrides: Map::new(),
        });
        self.0.last_mut().unwrap()
    }
}

impl Case {
    fn python(&mut self, kind: &str, contains: &str) -> &mut Self {
        self.overrides.insert(
            "python".to_owned(),
            json!({"kind": kind, "message_contains": contains}),
        );
        self
    }
}

fn agg(v: f64, ready: u32) -> Value {
    json!({"kind": "aggregated", "value": v, "ready_replicas": ready})
}

fn hpa_input(now_ms: i64, value: f64) -> Value {
    json!({"now_ms": now_ms, "current_replicas": 2, "ready_replicas": 2, "metrics": [agg(value, 2)]})
}

fn kpa_input(now_ms: i64, samples: Value) -> Value {
    json!({"now_ms": now_ms, "current_replicas": 2, "ready_replicas": 2, "kpa": {"samples": samples}})
}

fn scaled_object(spec: Value) -> String {
    json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
           "metadata": {"name": "worker"}, "spec": spec})
    .to_string()
}

fn knative(annotations: Value) -> String {
    json!({"apiVersion": "serving.knative.dev/v1", "kind": "Service",
           "metadata": {"name": "inference"},
           "spec": {"template": {"metadata": {"annotations": annotations},
                                 "spec": {"containers": [{"image": "inference"}]}}}})
    .to_string()
}

fn vpa_manifest(policy: Value) -> String {
    json!({"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
           "metadata": {"name": "backend-vpa"},
           "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "backend"},
                    "resourcePolicy": {"containerPolicies": [policy]}}})
    .to_string()
}

fn checkpoint(version: &str, cpu_weights: Value) -> String {
    json!({"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscalerCheckpoint",
           "metadata": {"name": "sutazai-backend-vpa-sutazai-backend"},
           "spec": {"vpaObjectName": "sutazai-backend-vpa", "containerName": "sutazai-backend"},
           "status": {"version": version,
                      "cpuHistogram": {"referenceTimestamp": "2023-11-14T00:00:00Z",
                                       "bucketWeights": cpu_weights, "totalWeight": 10.0},
                      "memoryHistogram": {"referenceTimestamp": "2023-11-14T00:00:00Z",
                                          "bucketWeights": {"20": 10000}, "totalWeight": 1.0},
                      "firstSampleStart": "2023-11-13T00:00:00Z",
                      "lastSampleStart": "2023-11-13T23:00:00Z",
                      "totalSamplesCount": 100}})
    .to_string()
}

/// Negates the first histogram weight (`"weights": [[bucket, weight], ...]`) under `v`.
fn negate_first_weight(v: &mut Value) -> bool {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(weights)) = map.get_mut("weights")
                && let Some(pair) = weights.first_mut()
            {
                pair[1] = json!(-pair[1].as_f64().unwrap());
                return true;
            }
            map.values_mut().any(negate_first_weight)
        }
        Value::Array(items) => items.iter_mut().any(negate_first_weight),
        _ => false,
    }
}

#[allow(clippy::too_many_lines)] // one table
fn cases() -> Vec<Case> {
    let hpa = json!({"min_replicas": 1, "max_replicas": 10, "hpa": {"metrics": [
        {"type": "resource", "resource": "cpu", "target": {"type": "utilization", "average_utilization": 50}}]}});
    let hpa2 = spec_of("testdata/seed/hpa.yaml");
    let threshold = spec_of("testdata/seed/thresholds.yaml");
    let predictive = spec_of("examples/specs/predictive-slo.yaml");
    let keda = spec_of("examples/specs/keda-scaledobject.yaml");
    let kpa = spec_of("examples/specs/knative-service.yaml");
    let hv = spec_of("examples/specs/hpa-vpa.yaml");
    let hv_input: Value =
        serde_json::from_str(&read("examples/inputs/hpa-vpa-observation.json")).unwrap();
    let hv_now = hv_input["now_ms"].as_i64().unwrap();
    let ets = json!({"kind": "ets", "period": 4});
    let series: Vec<f64> = (0..24).map(|i| 10.0 + f64::from(i % 4)).collect();
    let agg_in = json!({"now_ms": T0, "current_replicas": 2, "ready_replicas": 2});
    let mut c = Cases::default();

    // ---- NaN
    let class = "nan";
    c.add(
        "decide/hpa/aggregated-nan",
        class,
        "decide_aggregated",
        "an HPA metric's value is NaN",
        json!({"spec": hpa, "input": agg_in, "values": ["NaN"]}),
        "metrics[0]: aggregated value must be a finite number >= 0, got NaN",
    )
    // Python converts its arguments to plain data first, where a NaN or infinity has no form
    .python(
        "invalid_input",
        "metrics[0]: values must be finite numbers, got NaN",
    );
    c.add(
        "decide/keda/aggregated-nan",
        class,
        "decide_aggregated",
        "a KEDA trigger's value is NaN",
        json!({"spec": keda, "input": agg_in, "values": [3.0, "NaN"]}),
        "metrics[1]: aggregated value must be a finite number >= 0, got NaN",
    )
    // Python converts its arguments to plain data first, where a NaN or infinity has no form
    .python(
        "invalid_input",
        "metrics[1]: values must be finite numbers, got NaN",
    );
    c.add("fit/nan", class, "fit", "a NaN in the series to fit",
        json!({"model": ets, "series": [1.0, 2.0, "NaN", 4.0, 1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0]}),
        "y[2] must be finite, got NaN");
    c.add(
        "update/nan",
        class,
        "update",
        "a NaN observation",
        json!({"model": ets, "series": series, "value": "NaN"}),
        "y must be finite, got NaN",
    );
    c.add(
        "predict/level-nan",
        class,
        "predict",
        "a NaN interval level",
        json!({"model": ets, "series": series, "horizon": 3, "level": "NaN"}),
        "level must be in (0, 1), got NaN",
    );
    c.add(
        "trace/nan",
        class,
        "trace",
        "a NaN load in the backtest's trace",
        json!({"timestamps_s": [0, 60, 120], "values": [1.0, "NaN", 2.0]}),
        "trace value at row 2 must be a finite number >= 0, got NaN",
    );

    // ---- ±inf
    let class = "inf";
    c.add(
        "decide/hpa/aggregated-inf",
        class,
        "decide_aggregated",
        "an HPA metric's value is +inf",
        json!({"spec": hpa, "input": agg_in, "values": ["inf"]}),
        "metrics[0]: aggregated value must be a finite number >= 0, got inf",
    )
    // Python converts its arguments to plain data first, where a NaN or infinity has no form
    .python(
        "invalid_input",
        "metrics[0]: values must be finite numbers, got inf",
    );
    c.add(
        "decide/hpa/aggregated-minus-inf",
        class,
        "decide_aggregated",
        "an HPA metric's value is -inf",
        json!({"spec": hpa, "input": agg_in, "values": ["-inf"]}),
        "metrics[0]: aggregated value must be a finite number >= 0, got -inf",
    )
    // Python converts its arguments to plain data first, where a NaN or infinity has no form
    .python(
        "invalid_input",
        "metrics[0]: values must be finite numbers, got -inf",
    );
    c.add("fit/inf", class, "fit", "+inf in the series to fit",
        json!({"model": ets, "series": [1.0, "inf", 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0]}),
        "y[1] must be finite, got inf");
    c.add(
        "update/minus-inf",
        class,
        "update",
        "a -inf observation",
        json!({"model": ets, "series": series, "value": "-inf"}),
        "y must be finite, got -inf",
    );
    c.add(
        "predict/level-inf",
        class,
        "predict",
        "an infinite interval level",
        json!({"model": ets, "series": series, "horizon": 3, "level": "inf"}),
        "level must be in (0, 1), got inf",
    );
    c.add(
        "trace/inf",
        class,
        "trace",
        "+inf load in the backtest's trace",
        json!({"timestamps_s": [0, 60, 120], "values": [1.0, 2.0, "inf"]}),
        "trace value at row 3 must be a finite number >= 0, got inf",
    );

    // ---- negative values
    let class = "negative";
    c.add(
        "decide/hpa/aggregated-negative",
        class,
        "decide_aggregated",
        "a negative HPA metric value",
        json!({"spec": hpa, "input": agg_in, "values": [-1.0]}),
        "metrics[0]: aggregated value must be a finite number >= 0, got -1",
    );
    c.add(
        "decide/hpa/pods-negative",
        class,
        "decide",
        "a negative per-pod metric value",
        json!({"spec": hpa2, "input": {"now_ms": T0, "current_replicas": 2, "metrics": [
            {"kind": "aggregated", "value": 50.0, "ready_replicas": 2},
            {"kind": "object", "value_milli": -5}]}}),
        "metrics[1]: object value must be a finite number >= 0, got -5",
    );
    c.add("decide/negative-current-replicas", class, "decide", "current_replicas is -1",
        json!({"spec": hpa, "input": {"now_ms": T0, "current_replicas": -1, "metrics": [agg(50.0, 2)]}}),
        "invalid value: integer `-1`, expected u32")
        .python("invalid_input", "current_replicas must be in [0, 2147483647], got -1");
    c.add(
        "decide/threshold/signal-negative",
        class,
        "decide",
        "a negative threshold signal",
        json!({"spec": threshold, "input": {"now_ms": T0, "current_replicas": 2,
            "signals": {"cpu": -3.0}}}),
        "signal cpu must be a finite number >= 0, got -3",
    );
    c.add("decide/predictive/load-negative", class, "decide", "a negative load for the predictive source",
        json!({"spec": predictive, "input": {"now_ms": T0, "current_replicas": 2, "ready_replicas": 2,
            "metrics": [agg(50.0, 2)], "load": -1.0}}),
        "load must be a finite number >= 0, got -1");
    c.add("decide/predictive/load-sample-negative", class, "decide", "a negative load sample",
        json!({"spec": predictive, "input": {"now_ms": T0, "current_replicas": 2, "ready_replicas": 2,
            "metrics": [agg(50.0, 2)], "load_samples": {"step_ms": 1000, "values": [1.0, -2.0]}}}),
        "load_samples.values[1] must be a finite number >= 0, got -2");
    c.add("decide/kpa/sample-negative", class, "decide", "a negative KPA sample",
        json!({"spec": kpa, "input": kpa_input(T0, json!([{"time_ms": T0 - 1000, "value": -4.0}]))}),
        "kpa: samples[0]: sample value must be in [0, 1e15], got -4");
    c.add(
        "decide/kpa/average-negative",
        class,
        "decide",
        "a negative KPA stable average",
        json!({"spec": kpa, "input": {"now_ms": T0, "current_replicas": 2, "ready_replicas": 2,
            "kpa": {"averages": {"stable": -1.0, "panic": 1.0}}}}),
        "kpa: averages.stable must be in [0, 1e15], got -1",
    );
    c.add("decide/vpa/usage-negative", class, "decide",
        "negative CPU usage for the VPA (accepted and dropped, as the upstream recommender drops it)",
        json!({"spec": hv, "input": {"now_ms": hv_now, "current_replicas": 4, "ready_replicas": 4,
            "metrics": [agg(50.0, 4), {"kind": "object", "value_milli": 60000}],
            "container_usage": [{"container": "sutazai-backend", "pod": "backend-0",
                                 "cpu_cores": -0.5, "memory_bytes": 1_000_000}]}}),
        "");
    c.add(
        "trace/negative",
        class,
        "trace",
        "a negative load in the trace",
        json!({"timestamps_s": [0, 60, 120], "values": [1.0, -2.0, 2.0]}),
        "trace value at row 2 must be a finite number >= 0, got -2",
    );
    c.add(
        "spec/negative-min-replicas",
        class,
        "spec",
        "min_replicas is -1",
        json!({"spec_json": json!({"min_replicas": -1, "max_replicas": 5, "hpa": {}}).to_string()}),
        "invalid value: integer `-1`, expected u32",
    );
    c.add(
        "vpa-checkpoint/negative-weight",
        class,
        "vpa_checkpoint",
        "a VPA checkpoint with a negative bucket weight",
        json!({"spec": hv, "checkpoint": checkpoint("v3", json!({"3": -5}))}),
        "cpuHistogram.bucketWeights[3] must be in [0, 4294967295], got -5",
    );

    // ---- zero targets
    let class = "zero_target";
    c.add("spec/hpa/zero-utilization", class, "spec", "an HPA utilization target of 0",
        json!({"spec_json": json!({"max_replicas": 5, "hpa": {"metrics": [{"type": "resource", "resource": "cpu",
            "target": {"type": "utilization", "average_utilization": 0}}]}}).to_string()}),
        "hpa.metrics[0].target.average_utilization must be > 0 percent, got 0");
    c.add(
        "spec/max-replicas-zero",
        class,
        "spec",
        "max_replicas of 0",
        json!({"spec_json": json!({"min_replicas": 0, "max_replicas": 0, "hpa": {}}).to_string()}),
        "max_replicas must be in [1, 2147483647], got 0",
    );
    c.add(
        "spec/keda/zero-threshold",
        class,
        "spec",
        "a KEDA trigger threshold of 0",
        json!({"spec_json": scaled_object(json!({"triggers": [{"type": "prometheus",
            "metadata": {"serverAddress": "http://p", "query": "q", "threshold": "0"}}]}))}),
        "target must be a finite number > 0, got 0",
    );
    c.add(
        "spec/kpa/zero-target",
        class,
        "spec",
        "a Knative target annotation of 0",
        json!({"spec_json": knative(json!({"autoscaling.knative.dev/target": "0"}))}),
        "autoscaling.knative.dev/target must be >= 0.01, got 0",
    );
    c.add("decide/hpa/zero-current-replicas", class, "decide",
        "current_replicas 0 with min_replicas 1 (scaling is disabled at zero, as in Kubernetes)",
        json!({"spec": hpa, "input": {"now_ms": T0, "current_replicas": 0, "metrics": [agg(50.0, 0)]}}),
        "");
    c.add(
        "fit/seasonal-naive-period-zero",
        class,
        "fit",
        "a seasonal naive period of 0",
        json!({"model": {"kind": "seasonal_naive", "period": 0}, "series": [1.0, 2.0]}),
        "period must be at least 1, got 0",
    );
    c.add(
        "predict/horizon-zero",
        class,
        "predict",
        "a forecast horizon of 0",
        json!({"model": ets, "series": series, "horizon": 0, "level": 0.0}),
        "horizon must be at least 1, got 0",
    );

    // ---- timestamps out of order / repeated
    let class = "out_of_order";
    c.add("decide/hpa/now-before-previous", class, "decide", "now_ms before the previous decision's",
        json!({"spec": hpa, "before": [hpa_input(T0 + 60_000, 50.0)], "input": hpa_input(T0, 50.0)}),
        "now_ms must not be before the previous decision's (1700000060000), got 1700000000000: timestamps out of order");
    c.add("decide/hpa/aggregated-now-before-previous", class, "decide_aggregated",
        "now_ms before the previous decision's (hot path)",
        json!({"spec": hpa, "before": [hpa_input(T0 + 60_000, 50.0)], "input": agg_in, "values": [50.0]}),
        "timestamps out of order");
    c.add("decide/kpa/samples-out-of-order", class, "decide", "KPA samples out of order",
        json!({"spec": kpa, "input": kpa_input(T0, json!([
            {"time_ms": T0 - 1000, "value": 5.0}, {"time_ms": T0 - 2000, "value": 5.0}]))}),
        "kpa: samples[1].time_ms must not be before the previous sample's, got 1699999998000: samples out of order");
    c.add(
        "decide/kpa/sample-after-now",
        class,
        "decide",
        "a KPA sample after now_ms",
        json!({"spec": kpa, "input": kpa_input(T0, json!([{"time_ms": T0 + 1000, "value": 5.0}]))}),
        "kpa: samples[0].time_ms must be <= now_ms (1700000000000), got 1700000001000",
    );
    c.add("decide/kpa/tick-before-previous", class, "decide", "a KPA tick before the previous one",
        json!({"spec": kpa, "before": [kpa_input(T0 + 6000, json!([{"time_ms": T0 + 5000, "value": 5.0}]))],
            "input": kpa_input(T0, json!([]))}),
        "timestamps out of order");
    c.add("decide/predictive/load-since-after-now", class, "decide", "load_since_ms after now_ms",
        json!({"spec": predictive, "input": {"now_ms": T0, "current_replicas": 2, "ready_replicas": 2,
            "metrics": [agg(50.0, 2)], "load": 10.0, "load_since_ms": T0 + 1}}),
        "load_since_ms must be before now_ms (1700000000000), got 1700000000001");
    c.add(
        "trace/unsorted",
        class,
        "trace",
        "trace timestamps going back",
        json!({"timestamps_s": [0, 120, 60], "values": [1.0, 2.0, 3.0]}),
        "trace timestamps must increase: row 3 (60) is not after row 2 (120) (unsorted)",
    );
    c.add(
        "vpa-checkpoint/first-after-last",
        class,
        "vpa_checkpoint",
        "a checkpoint whose first sample is after its last",
        json!({"spec": hv, "checkpoint": checkpoint("v3", json!({"3": 10000}))
            .replace("2023-11-13T00:00:00Z", "2023-11-14T01:00:00Z")}),
        "must not be after lastSampleStart",
    );
    let class = "repeated";
    c.add(
        "decide/hpa/same-instant",
        class,
        "decide",
        "a second decision at the same now_ms (accepted: a retried sync)",
        json!({"spec": hpa, "before": [hpa_input(T0, 50.0)], "input": hpa_input(T0, 90.0)}),
        "",
    );
    c.add(
        "decide/kpa/repeated-sample-time",
        class,
        "decide",
        "two KPA samples at the same instant (accepted: both are recorded)",
        json!({"spec": kpa, "input": kpa_input(T0, json!([
            {"time_ms": T0 - 1000, "value": 5.0}, {"time_ms": T0 - 1000, "value": 6.0}]))}),
        "",
    );
    c.add(
        "trace/duplicate",
        class,
        "trace",
        "a repeated trace timestamp",
        json!({"timestamps_s": [0, 60, 60], "values": [1.0, 2.0, 3.0]}),
        "row 3 (60) is not after row 2 (60) (duplicate timestamp)",
    );

    // ---- gaps
    let class = "gaps";
    c.add("decide/hpa/long-gap", class, "decide", "a decision a week after the previous one (accepted)",
        json!({"spec": hpa, "before": [hpa_input(T0, 50.0)], "input": hpa_input(T0 + 7 * 86_400_000, 50.0)}),
        "");
    c.add(
        "decide/kpa/sample-gap",
        class,
        "decide",
        "KPA samples with a minute missing (accepted)",
        json!({"spec": kpa, "input": kpa_input(T0, json!([
            {"time_ms": T0 - 70_000, "value": 5.0}, {"time_ms": T0 - 1000, "value": 5.0}]))}),
        "",
    );
    c.add("trace/gap", class, "trace", "a trace with a missing row",
        json!({"timestamps_s": [0, 60, 180], "values": [1.0, 2.0, 3.0]}),
        "trace must be regular: row 3 is 120 s after the previous one, expected 60 s (missing or irregular timestamps)");
    c.add("decide/predictive/load-step-zero", class, "decide", "load samples with a step of 0 ms",
        json!({"spec": predictive, "input": {"now_ms": T0, "current_replicas": 2, "ready_replicas": 2,
            "metrics": [agg(50.0, 2)], "load_samples": {"step_ms": 0, "values": [1.0]}}}),
        "load_samples.step_ms must be >= 1, got 0");

    // ---- huge values
    let class = "huge";
    c.add("decide/hpa/current-replicas-above-i32", class, "decide", "current_replicas above 2^31 - 1",
        json!({"spec": hpa, "input": {"now_ms": T0, "current_replicas": 3_000_000_000_u32, "metrics": [agg(50.0, 2)]}}),
        "current_replicas must be in [0, 2147483647], got 3000000000")
        .python("invalid_input", "current_replicas must be in [0, 2147483647], got 3000000000");
    c.add(
        "decide/hpa/aggregated-huge",
        class,
        "decide_aggregated",
        "an HPA value of 1e300 (accepted: clamped to max_replicas)",
        json!({"spec": hpa, "input": agg_in, "values": [1e300]}),
        "",
    );
    c.add(
        "decide/hpa/now-i64-max",
        class,
        "decide",
        "now_ms at i64::MAX (accepted)",
        json!({"spec": hpa, "input": hpa_input(i64::MAX, 50.0)}),
        "",
    );
    c.add(
        "decide/hpa/now-i64-min",
        class,
        "decide",
        "now_ms at i64::MIN (accepted)",
        json!({"spec": hpa, "input": hpa_input(i64::MIN, 50.0)}),
        "",
    );
    for (source, spec, input) in [
        (
            "keda",
            &keda,
            json!({"current_replicas": 2, "ready_replicas": 2, "metrics": [agg(30.0, 2), agg(0.1, 2)]}),
        ),
        (
            "kpa",
            &kpa,
            json!({"current_replicas": 2, "ready_replicas": 2, "kpa": {"averages": {"stable": 10.0, "panic": 10.0}}}),
        ),
        (
            "predictive",
            &predictive,
            json!({"current_replicas": 2, "ready_replicas": 2, "metrics": [agg(50.0, 2)], "load": 40.0}),
        ),
        (
            "vpa",
            &hv,
            json!({"current_replicas": 4, "ready_replicas": 4,
            "metrics": [agg(50.0, 4), {"kind": "object", "value_milli": 60000}],
            "container_usage": hv_input["container_usage"].clone(),
            "container_resources": hv_input["container_resources"].clone()}),
        ),
    ] {
        for (end, now) in [("max", i64::MAX), ("min", i64::MIN)] {
            let mut input = input.clone();
            input["now_ms"] = json!(now);
            // the VPA keeps times a Go time.Time holds (years 1 to 9999)
            let refused = if source == "vpa" {
                "now_ms (the start of usage[0]) must be after 0001-01-01T00:00:00Z"
            } else {
                ""
            };
            c.add(
                &format!("decide/{source}/now-i64-{end}"),
                class,
                "decide",
                "now_ms at an end of i64",
                json!({"spec": spec, "input": input}),
                refused,
            );
        }
    }
    c.add("decide/kpa/sample-huge", class, "decide", "a KPA sample above 1e15",
        json!({"spec": kpa, "input": kpa_input(T0, json!([{"time_ms": T0 - 1000, "value": 1e16}]))}),
        "kpa: samples[0]: sample value must be in [0, 1e15], got 10000000000000000");
    c.add(
        "spec/max-replicas-above-i32",
        class,
        "spec",
        "max_replicas above 2^31 - 1",
        json!({"spec_json": json!({"max_replicas": 3_000_000_000_u32, "hpa": {}}).to_string()}),
        "max_replicas must be in [1, 2147483647], got 3000000000",
    );
    c.add(
        "spec/max-replicas-above-u32",
        class,
        "spec",
        "max_replicas above 2^32 - 1",
        json!({"spec_json": json!({"max_replicas": 5_000_000_000_u64, "hpa": {}}).to_string()}),
        "invalid value: integer `5000000000`, expected u32",
    );
    c.add(
        "fit/huge",
        class,
        "fit",
        "a series of 1e308 values (every sum overflows)",
        json!({"model": ets, "series": vec![1e308; 12]}),
        "ets: no candidate model gave a finite likelihood",
    );
    c.add(
        "update/huge",
        class,
        "update",
        "an observation of 1e308 (its error would overflow the model's sums: refused, the model unchanged)",
        json!({"model": ets, "series": series, "value": 1e308}),
        "would break the state",
    );

    // ---- empty
    let class = "empty";
    c.add(
        "fit/empty",
        class,
        "fit",
        "an empty series",
        json!({"model": ets, "series": []}),
        "series is empty",
    );
    c.add(
        "trace/empty",
        class,
        "trace",
        "an empty trace",
        json!({"timestamps_s": [], "values": []}),
        "trace must have at least 2 points, got 0",
    );
    c.add(
        "decide/hpa/no-metrics",
        class,
        "decide",
        "no metric input for an HPA metric",
        json!({"spec": hpa, "input": {"now_ms": T0, "current_replicas": 2}}),
        "metrics must have one input per hpa metric (1), got 0",
    );
    c.add(
        "decide/hpa/aggregated-no-values",
        class,
        "decide_aggregated",
        "no value for an HPA metric (hot path)",
        json!({"spec": hpa, "input": agg_in, "values": []}),
        "metrics must have one input per hpa metric (1), got 0",
    );
    c.add(
        "decide/keda/too-few-values",
        class,
        "decide_aggregated",
        "one value for two KEDA triggers",
        json!({"spec": keda, "input": agg_in, "values": [3.0]}),
        "metrics must have one input per keda trigger (2), got 1",
    );
    c.add(
        "decide/predictive/no-load",
        class,
        "decide",
        "no load for a predictive-only spec",
        json!({"spec": {"max_replicas": 10, "predictive": predictive["predictive"]},
            "input": {"now_ms": T0, "current_replicas": 2}}),
        "load must be given: the predictive source is the only source",
    );
    c.add(
        "spec/empty",
        class,
        "spec",
        "an empty spec text",
        json!({"spec_json": ""}),
        "malformed JSON spec: EOF while parsing",
    );
    c.add(
        "state/empty",
        class,
        "state",
        "an empty state text",
        json!({"state_json": ""}),
        "invalid scaler state: EOF while parsing",
    );
    c.add(
        "spec/keda/no-triggers",
        class,
        "spec",
        "a ScaledObject without triggers",
        json!({"spec_json": scaled_object(json!({"triggers": []}))}),
        "spec.triggers must list at least one trigger",
    );
    c.add(
        "model-json/empty",
        class,
        "model_json",
        "an empty fitted-model text",
        json!({"model_json": ""}),
        "invalid fitted model JSON: EOF while parsing",
    );

    // ---- min > max
    let class = "min_gt_max";
    c.add(
        "spec/min-above-max",
        class,
        "spec",
        "min_replicas above max_replicas",
        json!({"spec_json": json!({"min_replicas": 5, "max_replicas": 2, "hpa": {}}).to_string()}),
        "min_replicas must be <= max_replicas (2), got 5",
    );
    c.add("spec/keda/min-above-max", class, "spec", "minReplicaCount above maxReplicaCount",
        json!({"spec_json": scaled_object(json!({"minReplicaCount": 9, "maxReplicaCount": 3,
            "triggers": [{"type": "prometheus", "metadata": {"serverAddress": "http://p", "query": "q", "threshold": "5"}}]}))}),
        "min_replicas must be <= max_replicas (3), got 9");
    c.add("spec/kpa/min-scale-above-max-scale", class, "spec", "Knative min-scale above max-scale",
        json!({"spec_json": knative(json!({"autoscaling.knative.dev/min-scale": "8",
            "autoscaling.knative.dev/max-scale": "3"}))}),
        "autoscaling.knative.dev/max-scale must be >= autoscaling.knative.dev/min-scale (8) or 0, got 3");
    c.add(
        "spec/vpa/min-allowed-above-max-allowed",
        class,
        "spec",
        "VPA minAllowed above maxAllowed",
        json!({"spec_json": vpa_manifest(json!({"containerName": "app",
            "minAllowed": {"cpu": "4"}, "maxAllowed": {"cpu": "1"}}))}),
        "min_allowed.cpu_millicores must be <= max_allowed (1000), got 4000",
    );
    c.add(
        "predict/level-above-one",
        class,
        "predict",
        "an interval level of 1.5",
        json!({"model": ets, "series": series, "horizon": 3, "level": 1.5}),
        "level must be in (0, 1), got 1.5",
    );

    // ---- unknown fields
    let class = "unknown_field";
    c.add(
        "spec/unknown-field",
        class,
        "spec",
        "an unknown top-level spec field",
        json!({"spec_json": json!({"max_replicas": 5, "hpa": {}, "bogus": 1}).to_string()}),
        "unknown field `bogus`",
    );
    c.add("spec/hpa/unknown-metric-type", class, "spec", "an unknown HPA metric type",
        json!({"spec_json": json!({"max_replicas": 5, "hpa": {"metrics": [{"type": "cpu"}]}}).to_string()}),
        "unknown variant `cpu`");
    c.add(
        "decide/unknown-input-field",
        class,
        "decide",
        "an unknown field in a metric input",
        json!({"spec": hpa, "input": {"now_ms": T0, "current_replicas": 2, "metrics": [
            {"kind": "aggregated", "value": 50.0, "ready_replicas": 2, "bogus": true}]}}),
        "unknown field `bogus`",
    );
    c.add("decide/unknown-metric-kind", class, "decide", "an unknown metric input kind",
        json!({"spec": hpa, "input": {"now_ms": T0, "current_replicas": 2, "metrics": [{"kind": "percent", "value": 5}]}}),
        "unknown variant `percent`");
    c.add("decide/unknown-top-level-field", class, "decide", "an unknown top-level input field",
        json!({"spec": hpa, "input": {"now_ms": T0, "current_replicas": 2, "metrics": [agg(50.0, 2)], "bogus": 1}}),
        "unknown field `bogus`")
        .python("TypeError", "bogus");
    c.add(
        "state/unknown-field",
        class,
        "state",
        "an unknown field in a state",
        json!({"state_json": json!({"version": 1, "bogus": 1}).to_string()}),
        "invalid scaler state: unknown field `bogus`",
    );
    c.add(
        "fit/unknown-model-field",
        class,
        "fit",
        "an unknown model spec field",
        json!({"model": {"kind": "ets", "period": 4, "bogus": 1}, "series": series}),
        "invalid model spec: unknown field `bogus`",
    );
    c.add(
        "fit/unknown-model-kind",
        class,
        "fit",
        "an unknown model kind",
        json!({"model": {"kind": "prophet"}, "series": series}),
        "invalid model spec: unknown variant `prophet`",
    );
    c.add("spec/keda/formula-unknown-trigger", class, "spec",
        "a KEDA formula naming a trigger that does not exist",
        json!({"spec_json": scaled_object(json!({"triggers": [
            {"type": "prometheus", "name": "queue", "metadata": {"serverAddress": "http://p", "query": "q", "threshold": "5"}}],
            "advanced": {"scalingModifiers": {"formula": "queue + latency", "target": "2"}}}))}),
        "references a metric that is not a trigger name (unknown variable: latency)");
    c.add(
        "spec/keda/unknown-trigger-type",
        class,
        "spec",
        "a ScaledObject trigger of an unknown type",
        json!({"spec_json": scaled_object(json!({"triggers": [
            {"type": "frobnicator", "metadata": {"threshold": "5"}}]}))}),
        "spec.triggers[0].type \"frobnicator\" is not a KEDA trigger type replicast knows",
    );
    c.add("spec/kpa/unknown-class", class, "spec", "a Knative Service with an unknown autoscaler class",
        json!({"spec_json": knative(json!({"autoscaling.knative.dev/class": "foo.autoscaling.knative.dev"}))}),
        "foo.autoscaling.knative.dev");

    // ---- wrong versions
    let class = "wrong_version";
    c.add(
        "state/version-2",
        class,
        "state",
        "a state of version 2",
        json!({"state_json": json!({"version": 2}).to_string()}),
        "scaler state version must be 1, got 2",
    );
    c.add("spec/hpa-api-version", class, "spec", "an HPA manifest of apiVersion autoscaling/v1",
        json!({"spec_json": json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "spec": {"maxReplicas": 5, "scaleTargetRef": {"kind": "Deployment", "name": "x"}}}).to_string()}),
        "apiVersion must be autoscaling/v2 for a HorizontalPodAutoscaler, got \"autoscaling/v1\"");
    c.add("spec/keda-api-version", class, "spec", "a ScaledObject of apiVersion keda.sh/v1",
        json!({"spec_json": scaled_object(json!({"triggers": []})).replace("keda.sh/v1alpha1", "keda.sh/v1")}),
        "apiVersion must be keda.sh/v1alpha1 for a ScaledObject, got \"keda.sh/v1\"");
    c.add(
        "vpa-checkpoint/version-v2",
        class,
        "vpa_checkpoint",
        "a VPA checkpoint of version v2",
        json!({"spec": hv, "checkpoint": checkpoint("v2", json!({"3": 10000}))}),
        "unsupported checkpoint version \"v2\", only \"v3\" is supported",
    );
    c.add(
        "vpa-checkpoint/api-version",
        class,
        "vpa_checkpoint",
        "a VPA checkpoint object of apiVersion v1beta2",
        json!({"spec": hv, "checkpoint": checkpoint("v3", json!({"3": 10000}))
            .replace("autoscaling.k8s.io/v1", "autoscaling.k8s.io/v1beta2")}),
        "apiVersion must be autoscaling.k8s.io/v1, got \"autoscaling.k8s.io/v1beta2\"",
    );

    // ---- truncated or corrupted state
    let class = "corrupted_state";
    let mut good = ScalerState::new();
    let hpa_scaler = Scaler::new(ScalerSpec::from_value(hpa.clone()).unwrap()).unwrap();
    hpa_scaler
        .decide(
            &mut good,
            &DecisionInput::from_json(&hpa_input(T0, 90.0).to_string()).unwrap(),
        )
        .unwrap();
    let good = good.to_json();
    c.add(
        "state/truncated",
        class,
        "state",
        "a state cut in half",
        json!({"state_json": good[..good.len() / 2]}),
        "invalid scaler state: EOF while parsing",
    );
    c.add(
        "state/not-json",
        class,
        "state",
        "text that is not JSON",
        json!({"state_json": "not a state"}),
        "invalid scaler state: expected",
    );
    c.add(
        "state/wrong-type",
        class,
        "state",
        "a field of the wrong type",
        json!({"state_json": json!({"version": 1, "last_decision_ms": "yesterday"}).to_string()}),
        "invalid scaler state: invalid type: string \"yesterday\"",
    );
    let mut vpa_state = ScalerState::new();
    Scaler::new(ScalerSpec::from_value(hv.clone()).unwrap())
        .unwrap()
        .decide(
            &mut vpa_state,
            &DecisionInput::from_json(&hv_input.to_string()).unwrap(),
        )
        .unwrap();
    let mut vpa_state: Value = serde_json::from_str(&vpa_state.to_json()).unwrap();
    negate_first_weight(&mut vpa_state["vpa"]);
    c.add(
        "state/vpa-negative-weight",
        class,
        "state",
        "a VPA histogram with a negative weight",
        json!({"state_json": vpa_state.to_string()}),
        "weight finite and >= 0",
    );
    c.add(
        "model-json/truncated",
        class,
        "model_json",
        "a fitted model cut in half",
        json!({"model_json": r#"{"kind": "seasonal_naive", "period": 4, "last": [1.0"#}),
        "invalid fitted model JSON: EOF while parsing",
    );
    c.add("model-json/inconsistent", class, "model_json", "a seasonal naive model whose buffer is shorter than its period",
        json!({"model_json": r#"{"kind": "seasonal_naive", "period": 4, "last": [1.0], "pos": 3, "n": 4, "sse": 0.0, "n_err": 0}"#}),
        "invalid fitted model JSON: seasonal naive needs period >= 1");
    c.add(
        "trace-csv/corrupted-row",
        class,
        "trace_csv",
        "a CSV trace with a malformed row",
        json!({"csv": "timestamp,value\n0,1\n60,lots\n"}),
        "trace CSV line 3: expected `timestamp,value`, got \"60,lots\"",
    );
    c.add(
        "trace-csv/no-header",
        class,
        "trace_csv",
        "a CSV trace without its header",
        json!({"csv": "0,1\n60,2\n"}),
        "trace CSV must start with the header timestamp,value",
    );
    c.add(
        "spec/truncated",
        class,
        "spec",
        "a spec cut short",
        json!({"spec_json": r#"{"max_replicas": 5, "hpa": {"met"#}),
        "malformed JSON spec: EOF while parsing",
    );

    c.0
}

/// Runs `case` (as the file has it) and checks the outcome against `expected`.
fn check(case: &Value) -> Result<(), String> {
    let name = case["name"].as_str().unwrap();
    let expected = &case["expected"];
    let run = run(case);
    if let (Some(before), Some(after)) = (&run.before, &run.after)
        && run.outcome.is_err()
        && before != after
    {
        return Err(format!(
            "{name}: the refused call changed the state\n  before {before}\n  after  {after}"
        ));
    }
    match (&run.outcome, expected["kind"].as_str().unwrap()) {
        (Ok(()), "ok") => Ok(()),
        (Ok(()), kind) => Err(format!("{name}: accepted, expected {kind}")),
        (Err(e), "ok") => Err(format!("{name}: expected success, got {e}")),
        (Err(e), kind) => {
            let contains = expected["message_contains"].as_str().unwrap();
            if e.kind().as_str() != kind {
                Err(format!("{name}: expected {kind}, got {e}"))
            } else if !e.message().contains(contains) {
                Err(format!(
                    "{name}: message {:?} does not contain {contains:?}",
                    e.message()
                ))
            } else {
                Ok(())
            }
        }
    }
}

fn document() -> Value {
    let mut out = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for case in cases() {
        assert!(
            names.insert(case.name.clone()),
            "duplicate case {}",
            case.name
        );
        let mut v =
            json!({"name": case.name, "class": case.class, "call": case.call, "about": case.about});
        for (k, a) in case.args.as_object().unwrap() {
            v[k] = a.clone();
        }
        let run = run(&v);
        let mut expected = match &run.outcome {
            Ok(()) => {
                assert!(
                    case.contains.is_empty(),
                    "{}: accepted, yet a message is expected",
                    case.name
                );
                json!({"kind": "ok"})
            }
            Err(e) => {
                assert!(
                    e.message().contains(case.contains),
                    "{}: Rust's message {:?} does not contain {:?}",
                    case.name,
                    e.message(),
                    case.contains
                );
                assert!(
                    !case.contains.is_empty(),
                    "{}: refused ({e}) without an expected message",
                    case.name
                );
                json!({"kind": e.kind().as_str(), "message": e.message(), "message_contains": case.contains})
            }
        };
        for (binding, o) in case.overrides {
            expected[binding] = o;
        }
        v["expected"] = expected;
        check(&v).unwrap();
        out.push(v);
    }
    json!({
        "about": "The bad-input matrix: each case is one bad input at one entry point, with the kind and message Rust gives; the C ABI, Go and Python run the same cases (docs/errors.md). Generated by `UPDATE_GOLDEN=1 cargo test -p replicast --test errors_matrix`, do not edit.",
        "cases": out,
    })
}

fn path() -> PathBuf {
    root().join("testdata/vectors/api/errors.json")
}

#[test]
fn the_matrix_is_current() {
    let text = serde_json::to_string_pretty(&document()).unwrap() + "\n";
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    if update {
        std::fs::write(path(), text).unwrap();
    } else {
        let committed = std::fs::read_to_string(path()).unwrap_or_default();
        assert!(
            committed == text,
            "{} is stale: run `UPDATE_GOLDEN=1 cargo test -p replicast --test errors_matrix` and review the diff",
            path().display()
        );
    }
    // docs/errors.md is generated from the vectors (and the C ABI's errors_c.json)
    let mut doc = std::process::Command::new("python3");
    doc.arg(root().join("scripts/errors-doc.py"));
    if !update {
        doc.arg("--check");
    }
    let status = doc.status().expect("python3 runs scripts/errors-doc.py");
    assert!(
        status.success(),
        "docs/errors.md is stale: run `scripts/errors-doc.py` (or `UPDATE_GOLDEN=1 cargo test -p replicast --test errors_matrix`)"
    );
}

/// The Rust binding's table-driven run of the committed file.
#[test]
fn rust_refuses_every_case_as_recorded() {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut per_class: BTreeMap<String, usize> = BTreeMap::new();
    for case in doc["cases"].as_array().unwrap() {
        *per_class
            .entry(case["class"].as_str().unwrap().to_owned())
            .or_default() += 1;
        if let Err(e) = check(case) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(per_class.len() >= 12, "{per_class:?}");
}
