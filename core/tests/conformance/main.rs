//! Conformance: every vector of every `testdata/vectors/hpa/*.json` file through the public API.
//!
//! Each vector group is run by the function of the same name; the test prints how many passed
//! per group and fails on any mismatch (or on a group it does not know).

mod calculator;
mod convert;
mod normalize;
mod reconcile;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

/// The result of one vector: `Ok` or a description of the mismatch.
pub(crate) type Outcome = Result<(), String>;

fn vector_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors/hpa");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vector files in {}", dir.display());
    files
}

fn run_vector(vector: &Value) -> Outcome {
    let group = vector["group"].as_str().unwrap_or_default();
    match group {
        "metric" => calculator::metric(vector),
        "group_pods" => calculator::group_pods(vector),
        "rate_limit_behavior" => normalize::rate_limit_behavior(vector),
        "clamp_legacy" => normalize::clamp_legacy(vector),
        "policy_limit" => normalize::policy_limit(vector),
        "stabilize_legacy" => normalize::stabilize_legacy(vector),
        "stabilize_behavior" => normalize::stabilize_behavior(vector),
        "store_scale_event" => normalize::store_scale_event(vector),
        "reconcile" => reconcile::reconcile(vector),
        other => Err(format!("unknown vector group {other:?}")),
    }
}

#[test]
fn every_hpa_vector_passes() {
    let mut per_group: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for file in vector_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let vectors = doc["vectors"].as_array().expect("a vectors array");
        for vector in vectors {
            let group = vector["group"].as_str().unwrap_or("?").to_owned();
            let name = vector["name"].as_str().unwrap_or("?").to_owned();
            let outcome = std::panic::catch_unwind(|| run_vector(vector))
                .unwrap_or_else(|_| Err("panicked".to_owned()));
            let entry = per_group.entry(group.clone()).or_default();
            entry.1 += 1;
            match outcome {
                Ok(()) => entry.0 += 1,
                Err(why) => failures.push(format!("{group}/{name}: {why}")),
            }
        }
    }
    let mut total = (0, 0);
    for (group, (passed, count)) in &per_group {
        println!("{group:>22}: {passed}/{count} passed");
        total.0 += passed;
        total.1 += count;
    }
    println!("{:>22}: {}/{} passed", "all", total.0, total.1);
    assert!(
        failures.is_empty(),
        "{} vector(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `testdata/bindings/hpa-reconcile.json`: every reconcile vector a `Scaler` accepts, with the
/// decision Rust makes, for the bindings to replay. Rewritten by
/// `UPDATE_GOLDEN=1 cargo test -p replicast --test conformance`; otherwise it must be current.
#[test]
fn binding_cases_are_current() {
    let mut cases = Vec::new();
    for file in vector_files() {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for vector in doc["vectors"].as_array().unwrap() {
            if vector["group"] == "reconcile"
                && let Some(case) = reconcile::binding_case(vector)
            {
                cases.push(case);
            }
        }
    }
    let doc = serde_json::json!({
        "about": "generated from vectors/hpa/*.json (group reconcile) by core/tests/conformance: \
                  UPDATE_GOLDEN=1 cargo test -p replicast --test conformance; do not edit",
        "cases": cases,
    });
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/bindings/hpa-reconcile.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == text,
        "{} is out of date: run UPDATE_GOLDEN=1 cargo test -p replicast --test conformance",
        path.display()
    );
}
