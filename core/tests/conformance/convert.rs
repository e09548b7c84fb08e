//! The vectors' JSON encodings → replicast's public types (schema: `testdata/README.md`).

use std::collections::BTreeMap;

use replicast::hpa::{
    ConditionStatus, Container, ContainerUsage, InitContainer, MetricInput, Pod, PodMetricSample,
    PodPhase, PodResourceSample, ReadyCondition,
};
use replicast::spec::{
    ControllerConfig, DescribedObject, MetricSpec, MetricTarget, MissingContainerMetric,
    MissingFallback, Quantity, ScaleFromZero, TargetType, TerminalPods, ToleranceCompare,
};
use replicast::time::GO_ZERO_TIME_MS;
use serde_json::Value;

/// The decision instant every vector is evaluated at.
pub(crate) const NOW_MS: i64 = 1_700_000_000_000;

/// A time field: seconds relative to now, `"zero"` (Go's zero time) or null.
pub(crate) fn time(v: &Value) -> Option<i64> {
    match v {
        Value::Null => None,
        Value::String(s) if s == "zero" => Some(GO_ZERO_TIME_MS),
        other => {
            Some(NOW_MS + (other.as_f64().expect("a time in seconds") * 1000.0).round() as i64)
        }
    }
}

/// A history time: like [`time`], but `0` means "earlier in this same sync", i.e. just before now.
pub(crate) fn history_time(v: &Value) -> i64 {
    if v.as_f64() == Some(0.0) {
        NOW_MS - 1
    } else {
        time(v).expect("a history time")
    }
}

/// `config` and `profile` → controller flags and compatibility switches.
pub(crate) fn controller_config(vector: &Value) -> ControllerConfig {
    let mut c = ControllerConfig::default();
    let config = &vector["config"];
    if let Some(t) = config["tolerance"].as_f64() {
        c.tolerance = t;
    }
    let secs = |key: &str| config[key].as_u64().map(|s| s as u32);
    if let Some(s) = secs("cpu_initialization_period_s") {
        c.cpu_initialization_period_s = s;
    }
    if let Some(s) = secs("initial_readiness_delay_s") {
        c.initial_readiness_delay_s = s;
    }
    if let Some(s) = secs("downscale_stabilization_window_s") {
        c.downscale_stabilization_window_s = s;
    }
    if let Some(f) = config["scale_up_limit_factor"].as_f64() {
        c.scale_up_limit_factor = f;
    }
    if let Some(m) = config["scale_up_limit_minimum"].as_f64() {
        c.scale_up_limit_minimum = m;
    }
    if let Some(g) = config["configurable_tolerance_gate"].as_bool() {
        c.configurable_tolerance = g;
    }
    if let Some(profile) = vector["profile"].as_object() {
        for (key, value) in profile {
            apply_profile(&mut c, key, value);
        }
    }
    c
}

/// Sets one profile key (`tolerance_compare`, `terminal_pods`, ...) to `value`.
pub(crate) fn apply_profile(c: &mut ControllerConfig, key: &str, value: &Value) {
    let p = &mut c.compatibility;
    let s = value.as_str().unwrap_or_default();
    match key {
        "tolerance_compare" => {
            p.tolerance_compare = if s == "abs" {
                ToleranceCompare::Abs
            } else {
                ToleranceCompare::Band
            };
        }
        "terminal_pods" => {
            p.terminal_pods = if s == "failed_and_succeeded" {
                TerminalPods::FailedAndSucceeded
            } else {
                TerminalPods::FailedOnly
            };
        }
        "missing_container_metric" => {
            p.missing_container_metric = if s == "error" {
                MissingContainerMetric::Error
            } else {
                MissingContainerMetric::SkipPod
            };
        }
        "missing_fallback" => {
            p.missing_fallback = if s == "100" {
                MissingFallback::Hundred
            } else {
                MissingFallback::Max100Target
            };
        }
        "scale_from_zero" => {
            p.scale_from_zero = if s == "condition" {
                ScaleFromZero::Condition
            } else {
                ScaleFromZero::Legacy
            };
        }
        "scale_to_zero_gate" => p.scale_to_zero_gate = value.as_bool().unwrap_or(s == "true"),
        "overflow_guards" => p.overflow_guards = value.as_bool().unwrap_or(s == "true"),
        "pod_level_resources" => p.pod_level_resources = value.as_bool().unwrap_or(s == "true"),
        other => panic!("unknown profile key {other}"),
    }
}

fn quantity(v: &Value) -> Option<Quantity> {
    v.as_i64().map(Quantity::from_milli)
}

/// A metric spec (`source`, `target` with `*_milli` values) → [`MetricSpec`].
pub(crate) fn metric_spec(m: &Value) -> MetricSpec {
    let t = &m["target"];
    let target = MetricTarget {
        kind: match t["type"].as_str() {
            Some("AverageValue") => TargetType::AverageValue,
            Some("Value") => TargetType::Value,
            _ => TargetType::Utilization,
        },
        average_utilization: t["average_utilization"].as_i64().map(|u| u as i32),
        average_value: quantity(&t["average_value_milli"]),
        value: quantity(&t["value_milli"]),
    };
    let name = || m["name"].as_str().unwrap_or_default().to_owned();
    let resource = || m["resource"].as_str().unwrap_or("cpu").to_owned();
    match m["source"].as_str().unwrap_or_default() {
        "Resource" => MetricSpec::Resource {
            resource: resource(),
            target,
        },
        "ContainerResource" => MetricSpec::ContainerResource {
            resource: resource(),
            container: m["container"].as_str().unwrap_or_default().to_owned(),
            target,
        },
        "Pods" => MetricSpec::Pods {
            name: name(),
            target,
        },
        "Object" => MetricSpec::Object {
            name: name(),
            target,
            described_object: described_object(&m["described_object"]),
        },
        "External" => MetricSpec::External {
            name: name(),
            target,
            selector: (!m["selector"].is_null()).then(|| {
                serde_json::from_value(m["selector"].clone())
                    .expect("selector {match_labels?, match_expressions?}")
            }),
        },
        other => MetricSpec::Unsupported {
            type_name: other.to_owned(),
        },
    }
}

/// An Object metric's `described_object`: `"apiVersion Kind name"` as the vectors write it, or
/// `{kind, name, api_version?}`.
fn described_object(v: &Value) -> Option<DescribedObject> {
    match v {
        Value::Null => None,
        Value::String(s) => {
            let parts: Vec<&str> = s.split_whitespace().collect();
            let [api_version, kind, name] = parts[..] else {
                panic!("described_object {s:?} is not \"apiVersion Kind name\"");
            };
            Some(DescribedObject {
                kind: kind.to_owned(),
                name: name.to_owned(),
                api_version: Some(api_version.to_owned()),
            })
        }
        other => Some(
            serde_json::from_value(other.clone())
                .expect("described_object {kind, name, api_version?}"),
        ),
    }
}

fn requests(v: &Value, resource: &str) -> BTreeMap<String, i64> {
    v.as_i64()
        .map(|r| BTreeMap::from([(resource.to_owned(), r)]))
        .unwrap_or_default()
}

/// The pod list; each container's single `request_milli` is its request of `resource`.
pub(crate) fn pods(v: &Value, resource: &str) -> Vec<Pod> {
    v.as_array()
        .map(|pods| {
            pods.iter()
                .map(|p| Pod {
                    name: p["name"].as_str().unwrap().to_owned(),
                    phase: match p["phase"].as_str().unwrap() {
                        "Pending" => PodPhase::Pending,
                        "Running" => PodPhase::Running,
                        "Succeeded" => PodPhase::Succeeded,
                        "Failed" => PodPhase::Failed,
                        _ => PodPhase::Unknown,
                    },
                    deleting: p["deleting"].as_bool().unwrap_or(false),
                    start_time_ms: time(&p["start_time"]),
                    ready: (!p["ready_condition"].is_null()).then(|| ReadyCondition {
                        status: match p["ready_condition"]["status"].as_str() {
                            Some("True") => ConditionStatus::True,
                            Some("False") => ConditionStatus::False,
                            _ => ConditionStatus::Unknown,
                        },
                        last_transition_ms: time(&p["ready_condition"]["last_transition"])
                            .expect("a transition time"),
                    }),
                    containers: p["containers"]
                        .as_array()
                        .map(|cs| {
                            cs.iter()
                                .map(|c| Container {
                                    name: c["name"].as_str().unwrap_or_default().to_owned(),
                                    requests_milli: requests(&c["request_milli"], resource),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    init_containers: p["init_containers"]
                        .as_array()
                        .map(|cs| {
                            cs.iter()
                                .map(|c| InitContainer {
                                    name: c["name"].as_str().unwrap_or_default().to_owned(),
                                    requests_milli: requests(&c["request_milli"], resource),
                                    restart_always: c["restart_always"].as_bool().unwrap_or(false),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    pod_requests_milli: (!p["pod_request_milli"].is_null())
                        .then(|| requests(&p["pod_request_milli"], resource)),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `resource_metrics` → per-pod resource samples.
pub(crate) fn resource_samples(v: &Value) -> Vec<PodResourceSample> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| PodResourceSample {
            pod: s["pod"].as_str().unwrap().to_owned(),
            timestamp_ms: time(&s["timestamp"]).expect("a sample time"),
            window_ms: (s["window_s"].as_f64().unwrap_or(60.0) * 1000.0) as i64,
            containers: s["containers"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .map(|c| ContainerUsage {
                            name: c["name"].as_str().unwrap_or_default().to_owned(),
                            usage_milli: c["usage_milli"].as_i64(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// `pod_metrics` (or `group_pods`' `metrics`) → per-pod custom-metric samples.
pub(crate) fn pod_samples(v: &Value) -> Vec<PodMetricSample> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| PodMetricSample {
            pod: s["pod"].as_str().unwrap().to_owned(),
            value_milli: s["value_milli"].as_i64().unwrap(),
            timestamp_ms: time(&s["timestamp"]).expect("a sample time"),
            window_ms: (s["window_s"].as_f64().unwrap_or(60.0) * 1000.0) as i64,
        })
        .collect()
}

/// The observation of one metric: whichever of the vector's input keys is present.
///
/// `fetch_error` is the error of the metrics API call the upstream test injects; the
/// controller's metrics client (`metrics/client.go`) wraps it before the replica calculator
/// sees it, and `MetricInput::Unavailable` carries what the client returns, so the wrapping is
/// done here.
pub(crate) fn metric_input(metric: &Value, inputs: &Value) -> MetricInput {
    if let Some(reason) = inputs["fetch_error"].as_str() {
        let api = match metric["source"].as_str() {
            Some("Resource" | "ContainerResource") => "resource",
            Some("External") => "external",
            _ => "custom",
        };
        return MetricInput::Unavailable {
            reason: format!("unable to fetch metrics from {api} metrics API: {reason}"),
        };
    }
    if !inputs["resource_metrics"].is_null() {
        return MetricInput::Resource {
            samples: resource_samples(&inputs["resource_metrics"]),
        };
    }
    if !inputs["pod_metrics"].is_null() {
        return MetricInput::Pods {
            samples: pod_samples(&inputs["pod_metrics"]),
        };
    }
    if let Some(v) = inputs["object_value_milli"].as_i64() {
        return MetricInput::Object { value_milli: v };
    }
    if let Some(vs) = inputs["external_values_milli"].as_array() {
        return MetricInput::External {
            values_milli: vs.iter().map(|v| v.as_i64().unwrap()).collect(),
        };
    }
    MetricInput::Unavailable {
        reason: format!("no input given for {} metric", metric["source"]),
    }
}
