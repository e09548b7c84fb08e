//! Conformance: every vector of every `testdata/vectors/hpa/*.json` file through the public API.
//!
//! Each vector group is run by the function of the same name; the test prints how many passed
//! per group and fails on any mismatch (or on a group it does not know).

mod api;
mod calculator;
mod convert;
mod normalize;
mod reconcile;

use serde_json::Value;

#[path = "../vectors/mod.rs"]
mod vectors;

pub(crate) use vectors::Outcome;

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
    let failures = vectors::run_all("hpa", run_vector);
    api::write_or_check();
    vectors::assert_none_failed(&failures);
}
