//! `reconcile` vectors: one whole controller sync through `hpa::reconcile`, and — whenever the
//! spec is one `ScalerSpec` validation accepts — through `Scaler::decide` too, which must agree.

use replicast::hpa::{
    self, ConditionReason, ConditionType, HpaHistory, Recommendation, ScaleEvent,
};
use replicast::spec::{
    Behavior, ControllerConfig, HpaSource, PolicyType, ScalingPolicy, ScalingRules, SelectPolicy,
};
use replicast::{Decision, DecisionInput, Scaler, ScalerSpec, ScalerState};
use serde_json::Value;

use crate::Outcome;
use crate::convert;

fn rules(v: &Value) -> ScalingRules {
    if v.is_null() {
        return ScalingRules::default();
    }
    ScalingRules {
        stabilization_window_s: v["stabilization_window_s"].as_u64().map(|w| w as u32),
        select_policy: v["select_policy"].as_str().map(|s| match s {
            "Max" => SelectPolicy::Max,
            "Min" => SelectPolicy::Min,
            "Disabled" => SelectPolicy::Disabled,
            other => panic!("select policy {other}"),
        }),
        policies: v["policies"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| ScalingPolicy {
                        kind: if p["type"] == "Pods" {
                            PolicyType::Pods
                        } else {
                            PolicyType::Percent
                        },
                        value: p["value"].as_i64().unwrap() as i32,
                        period_s: p["period_s"].as_i64().unwrap() as i32,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        tolerance: v["tolerance"].as_f64(),
    }
}

fn history(v: &Value) -> HpaHistory {
    let events = |list: &Value| -> Vec<ScaleEvent> {
        list.as_array()
            .map(|es| {
                es.iter()
                    .map(|e| ScaleEvent {
                        change: e["change"].as_i64().unwrap() as i32,
                        at_ms: convert::history_time(&e["at_s"]),
                        outdated: e["outdated"].as_bool().unwrap_or(false),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    HpaHistory {
        recommendations: v["recommendations"].as_array().map(|rs| {
            rs.iter()
                .map(|r| Recommendation {
                    replicas: r["replicas"].as_i64().unwrap() as i32,
                    at_ms: convert::history_time(&r["at_s"]),
                })
                .collect()
        }),
        scale_up_events: events(&v["scale_up_events"]),
        scale_down_events: events(&v["scale_down_events"]),
        scaled_to_zero: None,
    }
}

fn condition_list(decision: &Decision) -> Vec<(String, String, String)> {
    decision
        .conditions
        .iter()
        .map(|c| {
            let kind = match c.kind {
                ConditionType::AbleToScale => "AbleToScale",
                ConditionType::ScalingActive => "ScalingActive",
                ConditionType::ScalingLimited => "ScalingLimited",
                ConditionType::ScaledToZero => "ScaledToZero",
            };
            (
                kind.to_owned(),
                if c.status { "True" } else { "False" }.to_owned(),
                c.reason.to_string(),
            )
        })
        .collect()
}

pub(crate) fn reconcile(v: &Value) -> Outcome {
    crate::calculator::with_profiles(v, |controller, expected| run(v, controller, expected))
}

fn run(v: &Value, controller: &ControllerConfig, expected: &Value) -> Outcome {
    let inputs = &v["inputs"];
    let hpa_in = &inputs["hpa"];
    let controller = controller.clone();
    let metric_values = hpa_in["metrics"].as_array().unwrap();
    let metrics: Vec<_> = metric_values.iter().map(convert::metric_spec).collect();
    let behavior = (!hpa_in["behavior"].is_null()).then(|| Behavior {
        scale_up: rules(&hpa_in["behavior"]["scale_up"]),
        scale_down: rules(&hpa_in["behavior"]["scale_down"]),
    });
    let min_replicas = hpa_in["min_replicas"].as_u64().unwrap() as u32;
    let spec = ScalerSpec {
        min_replicas,
        max_replicas: hpa_in["max_replicas"].as_u64().unwrap() as u32,
        hpa: Some(HpaSource {
            metrics,
            namespace: hpa_in["namespace"].as_str().map(str::to_owned),
        }),
        threshold: None,
        predictive: None,
        keda: None,
        kpa: None,
        vpa: None,
        behavior,
        cooldown: None,
        controller,
    };
    let pods = convert::pods(&inputs["pods"], metric_resource(metric_values));
    let metric_inputs = inputs["metric_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .zip(metric_values)
        .map(|(input, metric)| convert::metric_input(metric, input))
        .collect();
    let input = DecisionInput {
        now_ms: convert::NOW_MS,
        current_replicas: inputs["scale"]["spec_replicas"].as_u64().unwrap() as u32,
        status_replicas: Some(inputs["scale"]["status_replicas"].as_u64().unwrap() as u32),
        pods: Some(pods),
        metrics: metric_inputs,
        ..DecisionInput::default()
    };
    let mut hist = history(&inputs["history"]);
    let start = hist.clone();
    let decision = hpa::reconcile(&spec, &mut hist, &input)
        .map_err(|e| format!("reconcile returned an error: {e}"))?;
    check(expected, &decision)?;

    if spec.validate().is_ok() {
        let scaler = Scaler::new(spec).map_err(|e| e.to_string())?;
        let mut state = ScalerState::with_hpa_history(start.clone());
        let via_scaler = scaler
            .decide(&mut state, &input)
            .map_err(|e| format!("Scaler::decide returned an error: {e}"))?;
        if via_scaler != decision {
            return Err(format!(
                "Scaler::decide and hpa::reconcile disagree:\n{via_scaler}\nvs\n{decision}"
            ));
        }
        if state.hpa_history() != &hist {
            return Err("Scaler::decide and hpa::reconcile leave different histories".to_owned());
        }
        // exported once, under the vector's own profile
        if scaler.spec().controller == convert::controller_config(v) {
            export_api_vector(v, &scaler, &start, &input, &via_scaler, &state)?;
        }
    }
    Ok(())
}

/// The resource whose requests the vector's pods carry (their single `request_milli`).
fn metric_resource(metrics: &[Value]) -> &str {
    metrics
        .iter()
        .find_map(|m| m["resource"].as_str())
        .unwrap_or("cpu")
}

fn check(expected: &Value, decision: &Decision) -> Outcome {
    let want_replicas = expected["replicas_after"].as_u64().unwrap() as u32;
    let want_rescaled = expected["rescaled"].as_bool().unwrap();
    let want_error = expected["error"].as_bool().unwrap();
    let want_conditions: Vec<(String, String, String)> = expected["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
                c["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let got_error = !decision.errors.is_empty()
        || decision.conditions.iter().any(|c| {
            c.kind == ConditionType::ScalingActive
                && !c.status
                && c.reason != ConditionReason::ScalingDisabled
        });
    let got_conditions = condition_list(decision);
    // the controller's texts, where the vector gives them: the ScalingActive=False message and
    // the metrics' errors
    if let Some(message) = expected["error_message"].as_str() {
        let got = decision
            .conditions
            .iter()
            .find(|c| c.kind == ConditionType::ScalingActive)
            .map(|c| c.message.as_str());
        if got != Some(message) {
            return Err(format!(
                "expected the ScalingActive message {message:?}, got {got:?}"
            ));
        }
    }
    if let Some(errors) = expected["errors"].as_array() {
        let want: Vec<&str> = errors.iter().filter_map(Value::as_str).collect();
        if decision.errors != want {
            return Err(format!(
                "expected the errors {want:?}, got {:?}",
                decision.errors
            ));
        }
    }
    if decision.replicas != want_replicas
        || decision.rescale != want_rescaled
        || got_error != want_error
        || got_conditions != want_conditions
    {
        return Err(format!(
            "expected replicas {want_replicas}, rescaled {want_rescaled}, error {want_error}, conditions {want_conditions:?}\n got replicas {}, rescaled {}, error {got_error}, conditions {got_conditions:?}\n{decision}",
            decision.replicas, decision.rescale
        ));
    }
    Ok(())
}

/// Records the vector in the public JSON forms (spec, state, input, decision, next state) for
/// the bindings' conformance tests (`testdata/vectors/api/reconcile.json`, see `crate::api`).
fn export_api_vector(
    v: &Value,
    scaler: &Scaler,
    start: &HpaHistory,
    input: &DecisionInput,
    decision: &Decision,
    after: &ScalerState,
) -> Outcome {
    let spec = serde_json::to_value(scaler.spec()).map_err(|e| e.to_string())?;
    // Only specs whose JSON form loads back to the same spec are exported.
    match ScalerSpec::from_json(&spec.to_string()) {
        Ok(back) if &back == scaler.spec() => {}
        _ => return Ok(()),
    }
    let state = ScalerState::with_hpa_history(start.clone()).to_json();
    let record = serde_json::json!({
        "name": v["name"],
        "spec": spec,
        "state": serde_json::from_str::<Value>(&state).map_err(|e| e.to_string())?,
        "input": serde_json::to_value(input).map_err(|e| e.to_string())?,
        "expected": {
            "replicas": v["expected"]["replicas_after"],
            "rescale": v["expected"]["rescaled"],
            "conditions": v["expected"]["conditions"],
        },
        "decision": serde_json::to_value(decision).map_err(|e| e.to_string())?,
        "state_after": serde_json::from_str::<Value>(&after.to_json()).map_err(|e| e.to_string())?,
    });
    crate::api::record(record);
    Ok(())
}
