//! Decision sequences for the KEDA, KPA and VPA sources in replicast's public JSON forms
//! (`testdata/vectors/api/sources.json`): each scenario's spec, every step's input, and the
//! decision and final state Rust produces. The Go tests (through the C ABI) and the Python
//! tests replay them and must get exactly the same decisions and state, so every new spec,
//! input and decision field crosses every binding.
//!
//! `UPDATE_GOLDEN=1 cargo test -p replicast --test golden_sources` rewrites the file; otherwise
//! the test fails when it is stale.

use std::path::PathBuf;

use serde_json::{Value, json};

use replicast::{DecisionInput, Scaler, ScalerSpec, ScalerState};

const T0: i64 = 1_700_000_000_000;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn aggregated(v: f64, ready: u32) -> Value {
    json!({"kind": "aggregated", "value": v, "ready_replicas": ready})
}

fn failed() -> Value {
    json!({"kind": "unavailable", "reason": "scaler unreachable"})
}

/// Runs `inputs` (built from the previous decision's replicas) and records every step.
fn scenario(
    name: &str,
    spec: &ScalerSpec,
    steps: usize,
    input: impl Fn(usize, u32) -> Value,
    start: u32,
) -> Value {
    let scaler = Scaler::new(spec.clone()).unwrap();
    let mut state = ScalerState::new();
    let mut current = start;
    let mut recorded = Vec::new();
    for i in 0..steps {
        let input_json = input(i, current);
        let observation: DecisionInput = serde_json::from_value(input_json.clone()).unwrap();
        let decision = scaler.decide(&mut state, &observation).unwrap();
        current = decision.replicas;
        recorded.push(json!({"input": input_json, "decision": decision}));
    }
    json!({
        "name": name,
        "spec": serde_json::from_str::<Value>(&spec.to_json()).unwrap(),
        "steps": recorded,
        "state_after": serde_json::from_str::<Value>(&state.to_json()).unwrap(),
    })
}

fn scenarios() -> Vec<Value> {
    let mut out = Vec::new();

    // KEDA: a ScaledObject manifest, quiet, active, failing past the fallback threshold, quiet
    let keda = ScalerSpec::from_yaml(&read("examples/specs/keda-scaledobject.yaml")).unwrap();
    out.push(scenario(
        "keda-scaledobject-activation-fallback-cooldown",
        &keda,
        16,
        |i, current| {
            let queue = match i {
                0..=1 => aggregated(2.0, current),
                2..=5 => aggregated(150.0, current),
                6..=9 => failed(),
                _ => aggregated(0.0, current),
            };
            json!({
                "now_ms": T0 + i as i64 * 30_000,
                "current_replicas": current,
                "ready_replicas": current,
                "metrics": [queue, aggregated(0.1, current)],
            })
        },
        0,
    ));

    // KEDA: a formula with coalescing and the scaling-modifiers fallback
    let formula = ScalerSpec::from_yaml(
        r#"
min_replicas: 1
max_replicas: 20
behavior: {scale_down: {stabilization_window_s: 0}}
keda:
  triggers:
    - {type: prometheus, name: primary, target: 1}
    - {type: prometheus, name: backup, target: 1}
  fallback: {failure_threshold: 2, replicas: 7, behavior: scaling_modifiers}
  scaling_modifiers: {formula: "primary ?? backup", target: 2, activation_target: 1}
"#,
    )
    .unwrap();
    out.push(scenario(
        "keda-formula-coalescing",
        &formula,
        8,
        |i, current| {
            let (a, b) = match i {
                0..=1 => (aggregated(6.0, current), aggregated(9.0, current)),
                2..=4 => (failed(), aggregated(9.0, current)),
                _ => (failed(), failed()),
            };
            json!({"now_ms": T0 + i as i64 * 15_000, "current_replicas": current,
                   "ready_replicas": current, "metrics": [a, b]})
        },
        2,
    ));

    // KPA: a Knative Service through a burst (panic) and idleness (scale to zero)
    let kpa = ScalerSpec::from_yaml(&read("examples/specs/knative-service.yaml")).unwrap();
    out.push(scenario(
        "kpa-knative-service-panic-and-zero",
        &kpa,
        45,
        |i, current| {
            // a tick every 6 s with the scrapes of each second since the previous one
            let now = T0 + 6_000 * (i as i64 + 1);
            let total = match i {
                0..=1 => 30.0,
                2..=3 => 160.0,
                _ => 0.0,
            };
            let samples: Vec<Value> = (0..6)
                .map(|k| json!({"time_ms": now - 5_000 + k * 1_000, "value": total}))
                .collect();
            json!({"now_ms": now, "current_replicas": current, "ready_replicas": current,
                   "kpa": {"samples": samples}})
        },
        1,
    ));

    // HPA + VPA: the seed's manifests, the example observation, then a day of hourly usage
    let hv = ScalerSpec::from_yaml(&read("examples/specs/hpa-vpa.yaml")).unwrap();
    let first: Value =
        serde_json::from_str(&read("examples/inputs/hpa-vpa-observation.json")).unwrap();
    out.push(scenario(
        "hpa-vpa-seed",
        &hv,
        8,
        move |i, current| {
            if i == 0 {
                return first.clone();
            }
            let now = first["now_ms"].as_i64().unwrap() + i as i64 * 3_600_000;
            let usage: Vec<Value> = (0..current)
                .map(|p| {
                    json!({"container": "sutazai-backend", "pod": format!("backend-{p}"),
                                "cpu_cores": 2.8 / f64::from(current), "memory_bytes": 1.3e9})
                })
                .collect();
            json!({
                "now_ms": now, "current_replicas": current, "ready_replicas": current,
                "metrics": [aggregated(280.0 / f64::from(current), current),
                            {"kind": "object", "value_milli": 60000}],
                "container_usage": usage,
                "container_resources": [{"container": "sutazai-backend",
                    "requests": {"cpu_millicores": 1000, "memory_bytes": 2_147_483_648_i64},
                    "limits": {"cpu_millicores": 2000, "memory_bytes": 4_294_967_296_i64}}],
            })
        },
        4,
    ));
    out
}

#[test]
fn the_shared_source_scenarios_are_current() {
    let doc = json!({
        "about": "KEDA, KPA and VPA decision sequences in replicast's public JSON forms; generated by `UPDATE_GOLDEN=1 cargo test -p replicast --test golden_sources`, do not edit; Go and Python replay them",
        "scenarios": scenarios(),
    });
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors/api/sources.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale: run `UPDATE_GOLDEN=1 cargo test -p replicast --test golden_sources` and review the diff",
        path.display()
    );
}

#[test]
fn the_scenarios_exercise_what_they_are_named_for() {
    let all = scenarios();
    let decisions = |name: &str| -> Vec<Value> {
        all.iter().find(|s| s["name"] == name).unwrap()["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["decision"].clone())
            .collect()
    };
    let keda = decisions("keda-scaledobject-activation-fallback-cooldown");
    assert!(keda.iter().any(|d| {
        d["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["stage"] == "activation")
    }));
    assert!(keda.iter().any(|d| d["keda"]["fallback"] == true));
    assert!(
        keda.iter()
            .any(|d| d["replicas"] == 0 && d["rescale"] == true),
        "back to zero"
    );
    let formula = decisions("keda-formula-coalescing");
    assert_eq!(formula.last().unwrap()["keda"]["composite_value"], 14.0);
    let kpa = decisions("kpa-knative-service-panic-and-zero");
    assert!(kpa.iter().any(|d| d["kpa"]["scale"]["panicking"] == true));
    assert_eq!(kpa.last().unwrap()["replicas"], 0);
    let hv = decisions("hpa-vpa-seed");
    assert_eq!(
        hv[0]["vertical"]["apply"][0]["requests"]["cpu_millicores"],
        1000
    );
}
