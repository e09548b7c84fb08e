//! Kubernetes `HorizontalPodAutoscaler` (autoscaling/v2) manifests → [`ScalerSpec`]; other
//! kinds are dispatched to their own module (`ScaledObject`: `scaled_object`).
//!
//! The manifest is read field by field so that fields which do not bear on the decision
//! (`metadata` but its namespace, `scaleTargetRef`, `status`, Pods and Object metric
//! selectors) are accepted and ignored, while every field that does is checked and named in
//! errors by its manifest path (`spec.metrics[1].object.target.averageValue`). The fields the
//! controller only names in its error messages are kept for them: `metadata.namespace`, an
//! Object metric's `describedObject` and an External metric's `metric.selector`.

use serde_json::Value;

use std::collections::BTreeMap;

use super::{
    Behavior, ControllerConfig, DescribedObject, HpaSource, LabelSelector,
    LabelSelectorRequirement, MetricSpec, MetricTarget, PolicyType, Quantity, ScalerSpec,
    ScalingPolicy, ScalingRules, SelectPolicy, TargetType,
};
use crate::error::{Error, Result};

/// Whether `value` is a Kubernetes object (has `apiVersion` and `kind`).
pub(super) fn is_manifest(value: &Value) -> bool {
    value.get("apiVersion").is_some() && value.get("kind").is_some()
}

pub(super) fn scaler_spec_from_manifest(value: &Value) -> Result<ScalerSpec> {
    let kind = value["kind"].as_str().unwrap_or_default();
    let api_version = value["apiVersion"].as_str().unwrap_or_default();
    if super::knative::is_knative(value) {
        return super::knative::scaler_spec_from_knative(value, &super::KpaSpec::default());
    }
    match kind {
        "HorizontalPodAutoscaler" => {}
        "ScaledObject" => return super::scaled_object::scaler_spec_from_scaled_object(value),
        "VerticalPodAutoscaler" => {
            // vertical only: the replicas are the caller's (held), the requests are decided
            return Ok(ScalerSpec {
                min_replicas: 0,
                max_replicas: i32::MAX as u32,
                hpa: None,
                threshold: None,
                predictive: None,
                keda: None,
                kpa: None,
                vpa: Some(crate::vpa::VpaSpec::from_manifest(value)?),
                behavior: None,
                cooldown: None,
                controller: ControllerConfig::default(),
            });
        }
        _ => {
            return Err(Error::invalid_config(format!(
                "kind must be HorizontalPodAutoscaler, ScaledObject, VerticalPodAutoscaler or a Knative Service, Configuration or Revision (serving.knative.dev/v1), got {kind:?}"
            )));
        }
    }
    if api_version != "autoscaling/v2" {
        return Err(Error::invalid_config(format!(
            "apiVersion must be autoscaling/v2 for a HorizontalPodAutoscaler, got {api_version:?}"
        )));
    }
    let spec = value
        .get("spec")
        .filter(|s| s.is_object())
        .ok_or_else(|| Error::invalid_config("spec must be an object"))?;
    let min_replicas = match spec.get("minReplicas") {
        None | Some(Value::Null) => 1,
        Some(v) => replica_count(v, "spec.minReplicas")?,
    };
    let max_replicas = match spec.get("maxReplicas") {
        None | Some(Value::Null) => {
            return Err(Error::invalid_config("spec.maxReplicas must be set"));
        }
        Some(v) => replica_count(v, "spec.maxReplicas")?,
    };
    let metrics = match spec.get("metrics") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, m)| metric(m, &format!("spec.metrics[{i}]")))
            .collect::<Result<_>>()?,
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "spec.metrics must be a list, got {other}"
            )));
        }
    };
    let behavior = match spec.get("behavior") {
        None | Some(Value::Null) => None,
        Some(b) => Some(behavior_at(b, "spec.behavior")?),
    };
    let namespace = match value.get("metadata").and_then(|m| m.get("namespace")) {
        None | Some(Value::Null) => None,
        Some(Value::String(ns)) => Some(ns.clone()),
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "metadata.namespace must be a string, got {other}"
            )));
        }
    };
    Ok(ScalerSpec {
        min_replicas,
        max_replicas,
        hpa: Some(HpaSource { metrics, namespace }),
        threshold: None,
        predictive: None,
        keda: None,
        kpa: None,
        vpa: None,
        behavior,
        cooldown: None,
        controller: ControllerConfig::default(),
    })
}

pub(super) fn replica_count(v: &Value, at: &str) -> Result<u32> {
    v.as_i64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| i32::try_from(n).is_ok())
        .ok_or_else(|| {
            Error::invalid_config(format!(
                "{at} must be an integer in [0, {}], got {v}",
                i32::MAX
            ))
        })
}

fn str_field<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid_config(format!("{at}.{key} must be a string")))
}

fn object_field<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a Value> {
    v.get(key)
        .filter(|x| x.is_object())
        .ok_or_else(|| Error::invalid_config(format!("{at}.{key} must be an object")))
}

fn metric(m: &Value, at: &str) -> Result<MetricSpec> {
    let kind = str_field(m, "type", at)?;
    let metric_name = |body: &Value, body_at: &str| -> Result<String> {
        let metric = object_field(body, "metric", body_at)?;
        Ok(str_field(metric, "name", &format!("{body_at}.metric"))?.to_owned())
    };
    Ok(match kind {
        "Resource" => {
            let at = format!("{at}.resource");
            let body = object_field(m, "resource", &at[..at.len() - ".resource".len()])?;
            MetricSpec::Resource {
                resource: str_field(body, "name", &at)?.to_owned(),
                target: target(body, &at)?,
            }
        }
        "ContainerResource" => {
            let at = format!("{at}.containerResource");
            let body = object_field(
                m,
                "containerResource",
                &at[..at.len() - ".containerResource".len()],
            )?;
            MetricSpec::ContainerResource {
                resource: str_field(body, "name", &at)?.to_owned(),
                container: str_field(body, "container", &at)?.to_owned(),
                target: target(body, &at)?,
            }
        }
        "Pods" | "Object" | "External" => {
            let key = match kind {
                "Pods" => "pods",
                "Object" => "object",
                _ => "external",
            };
            let body = object_field(m, key, at)?;
            let body_at = format!("{at}.{key}");
            let name = metric_name(body, &body_at)?;
            let target = target(body, &body_at)?;
            match kind {
                "Pods" => MetricSpec::Pods { name, target },
                "Object" => MetricSpec::Object {
                    name,
                    target,
                    described_object: described_object(body, &body_at)?,
                },
                _ => MetricSpec::External {
                    name,
                    target,
                    selector: match body["metric"].get("selector") {
                        None | Some(Value::Null) => None,
                        Some(s) => Some(label_selector(s, &format!("{body_at}.metric.selector"))?),
                    },
                },
            }
        }
        other => {
            return Err(Error::invalid_config(format!(
                "{at}.type must be one of Resource, ContainerResource, Pods, Object, External, got {other:?}"
            )));
        }
    })
}

/// An Object metric's `describedObject` (`kind`, `name`, optional `apiVersion`), if present.
fn described_object(body: &Value, at: &str) -> Result<Option<DescribedObject>> {
    let d = match body.get("describedObject") {
        None | Some(Value::Null) => return Ok(None),
        Some(d) if d.is_object() => d,
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "{at}.describedObject must be an object, got {other}"
            )));
        }
    };
    let at = format!("{at}.describedObject");
    let text = |key: &str| -> Result<Option<String>> {
        match d.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(Error::invalid_config(format!(
                "{at}.{key} must be a string, got {other}"
            ))),
        }
    };
    Ok(Some(DescribedObject {
        kind: text("kind")?.unwrap_or_default(),
        name: text("name")?.unwrap_or_default(),
        api_version: text("apiVersion")?,
    }))
}

/// A `metav1.LabelSelector` (`matchLabels`, `matchExpressions`).
fn label_selector(s: &Value, at: &str) -> Result<LabelSelector> {
    if !s.is_object() {
        return Err(Error::invalid_config(format!(
            "{at} must be an object, got {s}"
        )));
    }
    let string = |v: &Value, at: &str| -> Result<String> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_config(format!("{at} must be a string, got {v}")))
    };
    let match_labels = match s.get("matchLabels") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(labels)) => labels
            .iter()
            .map(|(k, v)| Ok((k.clone(), string(v, &format!("{at}.matchLabels.{k}"))?)))
            .collect::<Result<_>>()?,
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "{at}.matchLabels must be an object, got {other}"
            )));
        }
    };
    let match_expressions = match s.get("matchExpressions") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let at = format!("{at}.matchExpressions[{i}]");
                let values = match e.get("values") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(vs)) => vs
                        .iter()
                        .enumerate()
                        .map(|(j, v)| string(v, &format!("{at}.values[{j}]")))
                        .collect::<Result<_>>()?,
                    Some(other) => {
                        return Err(Error::invalid_config(format!(
                            "{at}.values must be a list, got {other}"
                        )));
                    }
                };
                Ok(LabelSelectorRequirement {
                    key: str_field(e, "key", &at)?.to_owned(),
                    operator: str_field(e, "operator", &at)?.to_owned(),
                    values,
                })
            })
            .collect::<Result<_>>()?,
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "{at}.matchExpressions must be a list, got {other}"
            )));
        }
    };
    Ok(LabelSelector {
        match_labels,
        match_expressions,
    })
}

fn target(body: &Value, at: &str) -> Result<MetricTarget> {
    let t = object_field(body, "target", at)?;
    let at = format!("{at}.target");
    let kind = match str_field(t, "type", &at)? {
        "Utilization" => TargetType::Utilization,
        "AverageValue" => TargetType::AverageValue,
        "Value" => TargetType::Value,
        other => {
            return Err(Error::invalid_config(format!(
                "{at}.type must be one of Utilization, AverageValue, Value, got {other:?}"
            )));
        }
    };
    let quantity = |key: &str| -> Result<Option<Quantity>> {
        match t.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Quantity::parse(s)
                .map(Some)
                .map_err(|e| Error::invalid_config(format!("{at}.{key}: {e}"))),
            Some(Value::Number(n)) => n
                .as_f64()
                .ok_or_else(|| format!("{n} is not a number"))
                .and_then(Quantity::from_f64)
                .map(Some)
                .map_err(|e| Error::invalid_config(format!("{at}.{key}: {e}"))),
            Some(other) => Err(Error::invalid_config(format!(
                "{at}.{key} must be a quantity such as \"500m\", got {other}"
            ))),
        }
    };
    let average_utilization = match t.get("averageUtilization") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| {
                    Error::invalid_config(format!(
                        "{at}.averageUtilization must be an integer percentage, got {v}"
                    ))
                })?,
        ),
    };
    Ok(MetricTarget {
        kind,
        average_utilization,
        average_value: quantity("averageValue")?,
        value: quantity("value")?,
    })
}

/// An HPA `behavior` object found at the manifest path `at`.
pub(super) fn behavior_at(b: &Value, at: &str) -> Result<Behavior> {
    if !b.is_object() {
        return Err(Error::invalid_config(format!(
            "{at} must be an object, got {b}"
        )));
    }
    let rules = |key: &str| -> Result<ScalingRules> {
        match b.get(key) {
            None | Some(Value::Null) => Ok(ScalingRules::default()),
            Some(r) => scaling_rules(r, &format!("{at}.{key}")),
        }
    };
    Ok(Behavior {
        scale_up: rules("scaleUp")?,
        scale_down: rules("scaleDown")?,
    })
}

fn scaling_rules(r: &Value, at: &str) -> Result<ScalingRules> {
    if !r.is_object() {
        return Err(Error::invalid_config(format!(
            "{at} must be an object, got {r}"
        )));
    }
    let stabilization_window_s = match r.get("stabilizationWindowSeconds") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    Error::invalid_config(format!(
                        "{at}.stabilizationWindowSeconds must be in [0, 3600], got {v}"
                    ))
                })?,
        ),
    };
    let select_policy = match r.get("selectPolicy") {
        None | Some(Value::Null) => None,
        Some(v) => Some(match v.as_str() {
            Some("Max") => SelectPolicy::Max,
            Some("Min") => SelectPolicy::Min,
            Some("Disabled") => SelectPolicy::Disabled,
            _ => {
                return Err(Error::invalid_config(format!(
                    "{at}.selectPolicy must be one of Max, Min, Disabled, got {v}"
                )));
            }
        }),
    };
    let policies = match r.get("policies") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(Error::invalid_config(format!(
                    "{at}.policies must have at least one policy when set"
                )));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, p)| policy(p, &format!("{at}.policies[{i}]")))
                .collect::<Result<_>>()?
        }
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "{at}.policies must be a list, got {other}"
            )));
        }
    };
    let tolerance = match r.get("tolerance") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            Quantity::parse(s)
                .map_err(|e| Error::invalid_config(format!("{at}.tolerance: {e}")))?
                .as_f64(),
        ),
        Some(v) => Some(v.as_f64().ok_or_else(|| {
            Error::invalid_config(format!("{at}.tolerance must be a quantity >= 0, got {v}"))
        })?),
    };
    Ok(ScalingRules {
        stabilization_window_s,
        select_policy,
        policies,
        tolerance,
    })
}

fn policy(p: &Value, at: &str) -> Result<ScalingPolicy> {
    let kind = match str_field(p, "type", at)? {
        "Pods" => PolicyType::Pods,
        "Percent" => PolicyType::Percent,
        other => {
            return Err(Error::invalid_config(format!(
                "{at}.type must be one of Pods, Percent, got {other:?}"
            )));
        }
    };
    let int = |key: &str| -> Result<i32> {
        p.get(key)
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| Error::invalid_config(format!("{at}.{key} must be an integer")))
    };
    Ok(ScalingPolicy {
        kind,
        value: int("value")?,
        period_s: int("periodSeconds")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_quantity_is_read_as_decimal() {
        let r = serde_json::json!({"tolerance": "50m"});
        assert_eq!(scaling_rules(&r, "x").unwrap().tolerance, Some(0.05));
    }
}
