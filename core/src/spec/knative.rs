//! Knative Serving manifests (`serving.knative.dev/v1` `Service`, `Configuration`, `Revision`)
//! → [`ScalerSpec`] with a [`KpaSpec`]: the revision template's `autoscaling.knative.dev/*`
//! annotations over the cluster's `config-autoscaler` values (Knative's defaults, or a
//! `config-autoscaler` ConfigMap in the same file), and `containerConcurrency`.
//!
//! `min-scale` / `max-scale` become the scaler's `min_replicas` / `max_replicas` (a max of 0,
//! Knative's "unbounded", becomes 2³¹−1), which the KPA source uses as its bounds.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ControllerConfig, KpaSpec, ScalerSpec};
use crate::error::{Error, Result};

/// Whether `value` is a Knative Serving object replicast reads autoscaling settings from.
pub(super) fn is_knative(value: &Value) -> bool {
    value["apiVersion"]
        .as_str()
        .is_some_and(|v| v.starts_with("serving.knative.dev/"))
        && matches!(
            value["kind"].as_str(),
            Some("Service" | "Configuration" | "Revision")
        )
}

/// Whether `value` is Knative's cluster-wide `config-autoscaler` ConfigMap.
pub(super) fn is_config_autoscaler(value: &Value) -> bool {
    value["kind"].as_str() == Some("ConfigMap")
        && value["metadata"]["name"].as_str() == Some("config-autoscaler")
}

/// The cluster defaults of a `config-autoscaler` ConfigMap.
pub(super) fn cluster_defaults(value: &Value) -> Result<KpaSpec> {
    let data = string_map(&value["data"], "data")?;
    KpaSpec::from_config_map(&data)
}

fn string_map(v: &Value, at: &str) -> Result<BTreeMap<String, String>> {
    match v {
        Value::Null => Ok(BTreeMap::new()),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                Value::Bool(b) => Ok((k.clone(), b.to_string())),
                other => Err(Error::invalid_config(format!(
                    "{at}.{k} must be a string, got {other}"
                ))),
            })
            .collect(),
        other => Err(Error::invalid_config(format!(
            "{at} must be a map of strings, got {other}"
        ))),
    }
}

/// The scaler spec of a Knative Service, Configuration or Revision over `cluster`.
pub(super) fn scaler_spec_from_knative(value: &Value, cluster: &KpaSpec) -> Result<ScalerSpec> {
    let kind = value["kind"].as_str().unwrap_or_default();
    let (template_at, template) = if kind == "Revision" {
        ("", value)
    } else {
        ("spec.template.", &value["spec"]["template"])
    };
    let annotations = string_map(
        &template["metadata"]["annotations"],
        &format!("{template_at}metadata.annotations"),
    )?;
    let mut kpa = KpaSpec::from_annotations(&annotations, cluster)?;
    match &template["spec"]["containerConcurrency"] {
        Value::Null => {}
        v => {
            kpa.container_concurrency = v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n <= 1000)
                .ok_or_else(|| {
                    Error::invalid_config(format!(
                        "{template_at}spec.containerConcurrency must be an integer in [0, 1000], got {v}"
                    ))
                })?;
        }
    }
    let (min_replicas, max_scale) = (kpa.min_scale, kpa.max_scale);
    kpa.min_scale = 0;
    kpa.max_scale = 0;
    Ok(ScalerSpec {
        min_replicas,
        max_replicas: if max_scale == 0 {
            i32::MAX as u32
        } else {
            max_scale
        },
        hpa: None,
        threshold: None,
        predictive: None,
        keda: None,
        kpa: Some(kpa),
        vpa: None,
        behavior: None,
        cooldown: None,
        controller: ControllerConfig::default(),
    })
}
