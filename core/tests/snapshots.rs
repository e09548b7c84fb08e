//! Snapshots written by earlier versions (`testdata/snapshots/`): they restore and behave as
//! the code that wrote them did, and a snapshot of an unknown format version is refused with an
//! error naming both versions.

use replicast::forecast::{FittedModel, Forecast, Predict};
use replicast::hpa::MetricInput;
use replicast::kpa::KpaState;
use replicast::vpa::VpaState;
use replicast::{DecisionInput, ErrorKind, Scaler, ScalerSpec, ScalerState};
use serde_json::Value;

fn read(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../testdata/snapshots/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn input(minute: i64, current: u32) -> DecisionInput {
    let load = 300.0 + 150.0 * ((minute as f64) / 60.0 * std::f64::consts::PI).sin();
    let util = 100.0 * load / (f64::from(current) * 100.0);
    DecisionInput {
        now_ms: 1_700_000_000_000 + minute * 60_000,
        current_replicas: current,
        ready_replicas: Some(current),
        metrics: vec![MetricInput::Aggregated {
            value: util,
            ready_replicas: current,
        }],
        load: Some(load),
        ..DecisionInput::default()
    }
}

#[test]
fn a_v1_scaler_state_restores_and_decides_as_the_code_that_wrote_it() {
    let spec = ScalerSpec::from_json(&read("v1/spec.json")).unwrap();
    let scaler = Scaler::new(spec).unwrap();
    let mut state = ScalerState::from_json(&read("v1/scaler_state.json")).unwrap();
    let expected: Value = serde_json::from_str(&read("v1/next_decisions.json")).unwrap();
    let expected = expected["decisions"].as_array().unwrap();
    assert_eq!(expected.len(), 60);
    let mut current = 5;
    for (i, want) in expected.iter().enumerate() {
        let d = scaler
            .decide(&mut state, &input(600 + i as i64, current))
            .unwrap();
        assert_eq!(
            i64::from(d.replicas),
            want["replicas"].as_i64().unwrap(),
            "minute {}",
            600 + i
        );
        let proposals: Vec<Value> = d
            .proposals
            .iter()
            .map(|p| serde_json::json!(p.replicas))
            .collect();
        assert_eq!(
            &Value::Array(proposals),
            &want["proposals"],
            "minute {}",
            600 + i
        );
        current = d.replicas;
    }
    // and the state, written again by this code, restores to itself
    let again = ScalerState::from_json(&state.to_json()).unwrap();
    assert_eq!(again, state);
}

#[test]
fn a_v1_fitted_model_restores_and_forecasts_as_it_did() {
    let model = FittedModel::from_json(&read("v1/fitted_model.json")).unwrap();
    let want: Forecast = serde_json::from_str(&read("v1/fitted_model_forecast.json")).unwrap();
    // fitted on 2,000 points (testdata/snapshots/README.md)
    assert_eq!(model.n_obs(), 2000);
    let got = model.predict(10, 0.9).unwrap();
    assert_eq!(got, want, "bit-identical forecast from the restored model");
}

#[test]
fn an_unknown_state_version_is_refused_naming_both_versions() {
    let mut doc: Value = serde_json::from_str(&read("v1/scaler_state.json")).unwrap();
    doc["version"] = serde_json::json!(2);
    let e = ScalerState::from_json(&doc.to_string()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Serialization);
    assert!(
        e.to_string()
            .contains("scaler state version must be 1, got 2"),
        "{e}"
    );

    let kpa = replicast::kpa::Kpa::new(replicast::kpa::KpaSpec::default()).unwrap();
    let mut doc: Value = serde_json::from_str(&kpa.new_state(0, Some(1)).to_json()).unwrap();
    doc["version"] = serde_json::json!(7);
    let e = KpaState::from_json(&doc.to_string()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Serialization);
    assert!(
        e.to_string().contains("kpa state version must be 1, got 7"),
        "{e}"
    );

    let e = VpaState::from_json(r#"{"version": 0, "containers": {}}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Serialization);
    assert!(
        e.to_string().contains("vpa state version must be 1, got 0"),
        "{e}"
    );
}
