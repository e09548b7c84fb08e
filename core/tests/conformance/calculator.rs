//! `metric` and `group_pods` vectors.

use std::collections::BTreeMap;

use replicast::hpa::{self, MetricContext, PodSample, Tolerances};
use replicast::spec::ControllerConfig;
use serde_json::Value;

use crate::Outcome;
use crate::convert;

fn tolerances(v: &Value, config: &ControllerConfig) -> Tolerances {
    let c = &v["config"];
    Tolerances {
        down: c["tolerance_down"].as_f64().unwrap_or(config.tolerance),
        up: c["tolerance_up"].as_f64().unwrap_or(config.tolerance),
    }
}

fn run_metric(v: &Value, config: &ControllerConfig, expected: &Value) -> Outcome {
    let inputs = &v["inputs"];
    let metric = convert::metric_spec(&inputs["metric"]);
    let resource = inputs["metric"]["resource"].as_str().unwrap_or("cpu");
    let pods = convert::pods(&inputs["pods"], resource);
    let input = convert::metric_input(&inputs["metric"], inputs);
    let ctx = MetricContext {
        current_replicas: inputs["current_replicas"].as_i64().unwrap() as i32,
        status_replicas: inputs["status_replicas"].as_i64().unwrap() as i32,
        ready_replicas: None,
        pods: Some(&pods),
        tolerances: tolerances(v, config),
        config,
        now_ms: convert::NOW_MS,
        namespace: inputs["namespace"]
            .as_str()
            .unwrap_or(replicast::spec::DEFAULT_NAMESPACE),
    };
    let got = hpa::metric_proposal(&metric, &input, &ctx);
    let fragment = expected["error_contains"].as_str();
    let full = expected["error_message"].as_str();
    if fragment.is_some() || full.is_some() {
        let f = match got {
            Err(f) => f,
            Ok(p) => {
                return Err(format!(
                    "expected an error ({:?}), got {p:?}",
                    full.or(fragment)
                ));
            }
        };
        // `error_message` is the replica calculator's error, word for word, as the upstream
        // test (or the upstream code, for tests that assert a prefix) gives it
        if let Some(full) = full
            && f.calculator_error != full
        {
            return Err(format!(
                "expected the replica calculator's error {full:?}, got {:?}",
                f.calculator_error
            ));
        }
        if let Some(fragment) = fragment
            && !f.calculator_error.contains(fragment)
        {
            return Err(format!(
                "expected an error containing {fragment:?}, got {f}"
            ));
        }
        // and the layers horizontal.go adds around it
        let condition = f.condition_message();
        if !(f.message.ends_with(&f.calculator_error)
            && f.error.ends_with(&f.message)
            && condition.ends_with(&f.message))
        {
            return Err(format!("inconsistent error layers: {f:?}"));
        }
        return Ok(());
    }
    let p = got.map_err(|f| format!("unexpected failure: {f}"))?;
    let mut mismatches = Vec::new();
    if let Some(r) = expected["replicas"].as_i64()
        && i64::from(p.replicas) != r
    {
        mismatches.push(format!("replicas {} != {r}", p.replicas));
    }
    if let Some(u) = expected["utilization"].as_i64()
        && p.utilization.map(i64::from) != Some(u)
    {
        mismatches.push(format!("utilization {:?} != {u}", p.utilization));
    }
    for key in ["raw_average_milli", "usage_milli"] {
        if let Some(m) = expected[key].as_i64()
            && p.value_milli != m
        {
            mismatches.push(format!("{key} {} != {m}", p.value_milli));
        }
    }
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(mismatches.join(", "))
    }
}

/// Runs the vector under its own profile and under each alternative profile it lists.
/// A vector without `profile` must give the same result under every value of every key
/// (`specs/hpa.md` §A.3), so it is also run under each alternative value.
pub(crate) const ALTERNATIVE_PROFILES: [(&str, &str); 8] = [
    ("tolerance_compare", "abs"),
    ("terminal_pods", "failed_and_succeeded"),
    ("missing_container_metric", "error"),
    ("missing_fallback", "100"),
    ("scale_from_zero", "condition"),
    ("scale_to_zero_gate", "true"),
    ("overflow_guards", "false"),
    ("pod_level_resources", "true"),
];

pub(crate) fn with_profiles(
    v: &Value,
    run: impl Fn(&ControllerConfig, &Value) -> Outcome,
) -> Outcome {
    let config = convert::controller_config(v);
    run(&config, &v["expected"])?;
    if v["profile"].is_null() {
        for (key, value) in ALTERNATIVE_PROFILES {
            let mut alt = config.clone();
            convert::apply_profile(&mut alt, key, &Value::String(value.to_owned()));
            run(&alt, &v["expected"]).map_err(|e| format!("under {key}={value}: {e}"))?;
        }
    }
    if let Some(others) = v["expected_under_other_profiles"].as_object() {
        for (setting, expected) in others {
            if !expected.is_object() {
                continue; // a description, not a concrete expectation
            }
            let (key, value) = setting.split_once('=').unwrap();
            let mut alt = config.clone();
            convert::apply_profile(&mut alt, key, &Value::String(value.to_owned()));
            run(&alt, expected).map_err(|e| format!("under {setting}: {e}"))?;
        }
    }
    Ok(())
}

pub(crate) fn metric(v: &Value) -> Outcome {
    with_profiles(v, |config, expected| run_metric(v, config, expected))
}

pub(crate) fn group_pods(v: &Value) -> Outcome {
    with_profiles(v, |config, expected| {
        let inputs = &v["inputs"];
        let resource = inputs["resource"].as_str().unwrap_or_default();
        let pods = convert::pods(&inputs["pods"], resource);
        let raw = convert::pod_samples(&inputs["metrics"]);
        let samples: BTreeMap<&str, PodSample> = raw
            .iter()
            .map(|s| {
                (
                    s.pod.as_str(),
                    PodSample {
                        value_milli: s.value_milli,
                        timestamp_ms: s.timestamp_ms,
                        window_ms: s.window_ms,
                    },
                )
            })
            .collect();
        let g = hpa::group_pods(&pods, &samples, resource == "cpu", config, convert::NOW_MS);
        let names = |key: &str| -> Vec<String> {
            expected[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_owned())
                .collect()
        };
        let owned = |set: std::collections::BTreeSet<&str>| -> Vec<String> {
            set.into_iter().map(str::to_owned).collect()
        };
        let got = (
            g.ready_count as u64,
            owned(g.unready),
            owned(g.missing),
            owned(g.ignored),
        );
        let mut want = (
            expected["ready_count"].as_u64().unwrap(),
            names("unready"),
            names("missing"),
            names("ignored"),
        );
        want.1.sort();
        want.2.sort();
        want.3.sort();
        if got == want {
            Ok(())
        } else {
            Err(format!("expected {want:?}, got {got:?}"))
        }
    })
}
