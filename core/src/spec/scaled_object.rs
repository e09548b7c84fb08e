//! KEDA `ScaledObject` manifests (`keda.sh/v1alpha1`) → [`ScalerSpec`] with a [`KedaSpec`].
//!
//! The manifest loads as written: `minReplicaCount`, `maxReplicaCount`, `pollingInterval`,
//! `cooldownPeriod`, `initialCooldownPeriod`, `idleReplicaCount`, `fallback`, and
//! `advanced.horizontalPodAutoscalerConfig.behavior` / `advanced.scalingModifiers`, with KEDA's
//! defaults. Each trigger's threshold and activation threshold are read from its `metadata`
//! under the key its scaler uses ([`TRIGGER_KEYS`]: `threshold` for prometheus, `lagThreshold`
//! for kafka, `queueLength` for aws-sqs-queue...), with the scaler's own default where it has
//! one. Connection settings (`serverAddress`, `query`, `authenticationRef`...) do not bear on
//! the decision and are ignored: the trigger's metric values arrive as observations. An
//! unknown trigger type is an error that lists the known ones.

use serde_json::Value;

use super::ScalerSpec;
use super::manifest::{behavior_at, replica_count};
use crate::error::{Error, Result};
use crate::source::keda::{
    Fallback, FallbackBehavior, KedaSpec, ScalingModifiers, Trigger, TriggerMetricType,
};

/// A scaler's metadata keys: where its target (threshold) and activation threshold live, and
/// the scaler's defaults (`None`: the key is required).
#[derive(Debug, Clone, Copy)]
pub struct TriggerKeys {
    /// KEDA's trigger `type`.
    pub kind: &'static str,
    /// Metadata keys holding the target, tried in order.
    pub target: &'static [&'static str],
    /// The scaler's default target when no key is set.
    pub target_default: Option<f64>,
    /// The metadata key of the activation threshold (default 0 when absent).
    pub activation: &'static str,
}

const fn keys(
    kind: &'static str,
    target: &'static [&'static str],
    target_default: Option<f64>,
    activation: &'static str,
) -> TriggerKeys {
    TriggerKeys {
        kind,
        target,
        target_default,
        activation,
    }
}

/// The trigger types a ScaledObject may use, with their metadata keys, as KEDA's scalers read
/// them (kedacore/keda v2.20, `pkg/scalers/*_scaler.go`). `cpu` and `memory` read `value`.
pub const TRIGGER_KEYS: &[TriggerKeys] = &[
    keys(
        "activemq",
        &["targetQueueSize"],
        Some(10.0),
        "activationTargetQueueSize",
    ),
    keys(
        "apache-kafka",
        &["lagThreshold"],
        Some(10.0),
        "activationLagThreshold",
    ),
    keys("arangodb", &["queryValue"], None, "activationQueryValue"),
    keys(
        "artemis-queue",
        &["queueLength"],
        Some(10.0),
        "activationQueueLength",
    ),
    keys(
        "aws-cloudwatch",
        &["targetMetricValue"],
        None,
        "activationTargetMetricValue",
    ),
    keys(
        "aws-dynamodb",
        &["targetValue"],
        None,
        "activationTargetValue",
    ),
    keys(
        "aws-dynamodb-streams",
        &["shardCount"],
        Some(2.0),
        "activationShardCount",
    ),
    keys(
        "aws-kinesis-stream",
        &["shardCount"],
        Some(2.0),
        "activationShardCount",
    ),
    keys(
        "aws-sqs-queue",
        &["queueLength"],
        Some(5.0),
        "activationQueueLength",
    ),
    keys(
        "azure-app-insights",
        &["targetValue"],
        None,
        "activationTargetValue",
    ),
    keys(
        "azure-blob",
        &["blobCount"],
        Some(5.0),
        "activationBlobCount",
    ),
    keys(
        "azure-data-explorer",
        &["threshold"],
        None,
        "activationThreshold",
    ),
    keys(
        "azure-eventhub",
        &["unprocessedEventThreshold"],
        Some(64.0),
        "activationUnprocessedEventThreshold",
    ),
    keys(
        "azure-log-analytics",
        &["threshold"],
        None,
        "activationThreshold",
    ),
    keys(
        "azure-monitor",
        &["targetValue"],
        None,
        "activationTargetValue",
    ),
    keys(
        "azure-pipelines",
        &["targetPipelinesQueueLength"],
        Some(1.0),
        "activationTargetPipelinesQueueLength",
    ),
    keys(
        "azure-queue",
        &["queueLength"],
        Some(5.0),
        "activationQueueLength",
    ),
    keys(
        "azure-servicebus",
        &["messageCount"],
        Some(5.0),
        "activationMessageCount",
    ),
    keys("beanstalkd", &["value"], None, "activationValue"),
    keys(
        "cassandra",
        &["targetQueryValue"],
        None,
        "activationTargetQueryValue",
    ),
    keys(
        "clickhouse",
        &["targetQueryValue"],
        None,
        "activationTargetQueryValue",
    ),
    keys("couchdb", &["queryValue"], None, "activationQueryValue"),
    keys("cpu", &["value"], None, ""),
    keys(
        "datadog",
        &["targetValue", "queryValue"],
        None,
        "activationQueryValue",
    ),
    keys("dynatrace", &["threshold"], None, "activationThreshold"),
    keys(
        "elasticsearch",
        &["targetValue"],
        None,
        "activationTargetValue",
    ),
    keys("etcd", &["value"], None, "activationValue"),
    keys(
        "external",
        &["targetValue", "threshold"],
        None,
        "activationTargetValue",
    ),
    keys("gcp-cloudtasks", &["value"], Some(100.0), "activationValue"),
    keys(
        "gcp-pubsub",
        &["value", "subscriptionSize"],
        Some(10.0),
        "activationValue",
    ),
    keys(
        "gcp-spanner",
        &["targetValue"],
        Some(5.0),
        "activationValue",
    ),
    keys(
        "gcp-stackdriver",
        &["targetValue"],
        Some(5.0),
        "activationTargetValue",
    ),
    keys(
        "gcp-storage",
        &["targetObjectCount"],
        Some(100.0),
        "activationTargetObjectCount",
    ),
    keys(
        "github-runner",
        &["targetWorkflowQueueLength"],
        Some(1.0),
        "activationTargetWorkflowQueueLength",
    ),
    keys(
        "graphite",
        &["threshold"],
        Some(100.0),
        "activationThreshold",
    ),
    keys(
        "huawei-cloudeye",
        &["targetMetricValue"],
        None,
        "activationTargetMetricValue",
    ),
    keys("ibmmq", &["queueDepth"], Some(20.0), "activationQueueDepth"),
    keys(
        "influxdb",
        &["thresholdValue"],
        None,
        "activationThresholdValue",
    ),
    keys(
        "kafka",
        &["lagThreshold"],
        Some(10.0),
        "activationLagThreshold",
    ),
    keys(
        "kubernetes-resource",
        &["targetValue"],
        None,
        "activationTargetValue",
    ),
    keys("kubernetes-workload", &["value"], None, "activationValue"),
    keys(
        "liiklus",
        &["lagThreshold"],
        Some(10.0),
        "activationLagThreshold",
    ),
    keys("loki", &["threshold"], None, "activationThreshold"),
    keys("memory", &["value"], None, ""),
    keys(
        "metrics-api",
        &["targetValue"],
        None,
        "activationTargetValue",
    ),
    keys("mongodb", &["queryValue"], None, "activationQueryValue"),
    keys("mssql", &["targetValue"], None, "activationTargetValue"),
    keys("mysql", &["queryValue"], None, "activationQueryValue"),
    keys(
        "nats-jetstream",
        &["lagThreshold"],
        Some(10.0),
        "activationLagThreshold",
    ),
    keys("new-relic", &["threshold"], None, "activationThreshold"),
    keys(
        "nsq",
        &["depthThreshold"],
        Some(10.0),
        "activationDepthThreshold",
    ),
    keys(
        "opensearch",
        &["targetValue"],
        None,
        "activationTargetValue",
    ),
    keys(
        "openstack-metric",
        &["threshold"],
        None,
        "activationThreshold",
    ),
    keys(
        "openstack-swift",
        &["objectCount"],
        Some(2.0),
        "activationObjectCount",
    ),
    keys(
        "postgresql",
        &["targetQueryValue"],
        None,
        "activationTargetQueryValue",
    ),
    keys("predictkube", &["threshold"], None, "activationThreshold"),
    keys("prometheus", &["threshold"], None, "activationThreshold"),
    keys(
        "pulsar",
        &["msgBacklogThreshold"],
        Some(10.0),
        "activationMsgBacklogThreshold",
    ),
    keys(
        "rabbitmq",
        &["value", "queueLength"],
        None,
        "activationValue",
    ),
    keys("redis", &["listLength"], Some(5.0), "activationListLength"),
    keys(
        "redis-cluster",
        &["listLength"],
        Some(5.0),
        "activationListLength",
    ),
    keys(
        "redis-cluster-streams",
        &["pendingEntriesCount", "streamLength", "lagCount"],
        Some(5.0),
        "activationLagCount",
    ),
    keys(
        "redis-sentinel",
        &["listLength"],
        Some(5.0),
        "activationListLength",
    ),
    keys(
        "redis-sentinel-streams",
        &["pendingEntriesCount", "streamLength", "lagCount"],
        Some(5.0),
        "activationLagCount",
    ),
    keys(
        "redis-streams",
        &["pendingEntriesCount", "streamLength", "lagCount"],
        Some(5.0),
        "activationLagCount",
    ),
    keys("selenium-grid", &[], Some(1.0), "activationThreshold"),
    keys(
        "solace-event-queue",
        &["messageCountTarget"],
        None,
        "activationMessageCountTarget",
    ),
    keys("solarwinds", &["targetValue"], None, "activationValue"),
    keys(
        "solr",
        &["targetQueryValue"],
        None,
        "activationTargetQueryValue",
    ),
    keys("splunk", &["targetValue"], None, "activationValue"),
    keys(
        "splunk-observability",
        &["targetValue"],
        None,
        "activationTargetValue",
    ),
    keys("sumologic", &["threshold"], None, "activationThreshold"),
    keys(
        "temporal",
        &["targetQueueSize"],
        Some(5.0),
        "activationTargetQueueSize",
    ),
];

/// The metadata keys of a trigger type, if KEDA has such a scaler.
#[must_use]
pub fn trigger_keys(kind: &str) -> Option<&'static TriggerKeys> {
    TRIGGER_KEYS.iter().find(|k| k.kind == kind)
}

pub(super) fn scaler_spec_from_scaled_object(value: &Value) -> Result<ScalerSpec> {
    let api_version = value["apiVersion"].as_str().unwrap_or_default();
    if api_version != "keda.sh/v1alpha1" {
        return Err(Error::invalid_config(format!(
            "apiVersion must be keda.sh/v1alpha1 for a ScaledObject, got {api_version:?}"
        )));
    }
    let spec = value
        .get("spec")
        .filter(|s| s.is_object())
        .ok_or_else(|| Error::invalid_config("spec must be an object"))?;
    let count = |key: &str, default: u32| -> Result<u32> {
        match spec.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => replica_count(v, &format!("spec.{key}")),
        }
    };
    let min_replicas = count("minReplicaCount", 0)?;
    let max_replicas = count("maxReplicaCount", 100)?;
    let idle_replica_count = match spec.get("idleReplicaCount") {
        None | Some(Value::Null) => None,
        Some(v) => Some(replica_count(v, "spec.idleReplicaCount")?),
    };
    let triggers = match spec.get("triggers") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, t)| trigger(t, &format!("spec.triggers[{i}]")))
            .collect::<Result<Vec<_>>>()?,
        Some(Value::Array(_) | Value::Null) | None => {
            return Err(Error::invalid_config(
                "spec.triggers must list at least one trigger",
            ));
        }
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "spec.triggers must be a list, got {other}"
            )));
        }
    };
    let fallback = match spec.get("fallback") {
        None | Some(Value::Null) => None,
        Some(f) => Some(fallback(f)?),
    };
    let advanced = spec.get("advanced").filter(|a| !a.is_null());
    if let Some(a) = advanced
        && !a.is_object()
    {
        return Err(Error::invalid_config(format!(
            "spec.advanced must be an object, got {a}"
        )));
    }
    let behavior = match advanced
        .and_then(|a| a.get("horizontalPodAutoscalerConfig"))
        .and_then(|h| h.get("behavior"))
    {
        None | Some(Value::Null) => None,
        Some(b) => Some(behavior_at(
            b,
            "spec.advanced.horizontalPodAutoscalerConfig.behavior",
        )?),
    };
    let scaling_modifiers = match advanced.and_then(|a| a.get("scalingModifiers")) {
        None | Some(Value::Null) => None,
        Some(m) => scaling_modifiers(m)?,
    };
    Ok(ScalerSpec {
        min_replicas,
        max_replicas,
        hpa: None,
        threshold: None,
        predictive: None,
        keda: Some(KedaSpec {
            triggers,
            polling_interval_s: count("pollingInterval", 30)?,
            cooldown_period_s: count("cooldownPeriod", 300)?,
            initial_cooldown_period_s: count("initialCooldownPeriod", 0)?,
            idle_replica_count,
            fallback,
            scaling_modifiers,
        }),
        kpa: None,
        vpa: None,
        behavior,
        cooldown: None,
        controller: super::ControllerConfig::default(),
    })
}

/// A number written as a YAML number or a string (`threshold: '100'`), as KEDA reads metadata.
fn number(v: &Value, at: &str) -> Result<f64> {
    let parsed = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    parsed
        .filter(|x| x.is_finite())
        .ok_or_else(|| Error::invalid_config(format!("{at} must be a number, got {v}")))
}

fn trigger(t: &Value, at: &str) -> Result<Trigger> {
    let kind = t
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid_config(format!("{at}.type must be a string")))?;
    if kind == "cron" {
        return Err(Error::invalid_config(format!(
            "{at}.type cron is not supported: use predictive.schedule (scheduled floors) for replicas by time of day"
        )));
    }
    let keys = trigger_keys(kind).ok_or_else(|| {
        let known: Vec<&str> = TRIGGER_KEYS.iter().map(|k| k.kind).collect();
        Error::invalid_config(format!(
            "{at}.type {kind:?} is not a KEDA trigger type replicast knows; known types: {}",
            known.join(", ")
        ))
    })?;
    let empty = serde_json::Map::new();
    let metadata = match t.get("metadata") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "{at}.metadata must be an object, got {other}"
            )));
        }
    };
    let target = match keys
        .target
        .iter()
        .find_map(|key| metadata.get(*key).map(|v| (*key, v)))
    {
        Some((key, v)) => number(v, &format!("{at}.metadata.{key}"))?,
        None => keys.target_default.ok_or_else(|| {
            Error::invalid_config(format!(
                "{at}.metadata.{} must be set for a {kind} trigger",
                keys.target.first().copied().unwrap_or("value")
            ))
        })?,
    };
    let activation_target = match metadata.get(keys.activation) {
        Some(v) if !keys.activation.is_empty() => {
            number(v, &format!("{at}.metadata.{}", keys.activation))?
        }
        _ => 0.0,
    };
    let metric_type_text = t
        .get("metricType")
        .and_then(Value::as_str)
        // cpu and memory triggers once carried it in their metadata
        .or_else(|| metadata.get("type").and_then(Value::as_str));
    let metric_type = match metric_type_text {
        Some("Value") => TriggerMetricType::Value,
        Some("Utilization") => TriggerMetricType::Utilization,
        None if kind == "cpu" || kind == "memory" => TriggerMetricType::Utilization,
        Some("AverageValue") | None => TriggerMetricType::AverageValue,
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "{at}.metricType must be one of AverageValue, Value, Utilization, got {other:?}"
            )));
        }
    };
    let name = match t.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "{at}.name must be a string, got {other}"
            )));
        }
    };
    Ok(Trigger {
        kind: kind.to_owned(),
        name,
        metric_type,
        target,
        activation_target,
    })
}

fn fallback(f: &Value) -> Result<Fallback> {
    let at = "spec.fallback";
    if !f.is_object() {
        return Err(Error::invalid_config(format!(
            "{at} must be an object, got {f}"
        )));
    }
    let int = |key: &str| -> Result<u32> {
        match f.get(key) {
            Some(v) => replica_count(v, &format!("{at}.{key}")),
            None => Err(Error::invalid_config(format!("{at}.{key} must be set"))),
        }
    };
    let behavior = match f.get("behavior").and_then(Value::as_str) {
        None | Some("static") => FallbackBehavior::Static,
        Some("currentReplicas") => FallbackBehavior::CurrentReplicas,
        Some("currentReplicasIfHigher") => FallbackBehavior::CurrentReplicasIfHigher,
        Some("currentReplicasIfLower") => FallbackBehavior::CurrentReplicasIfLower,
        Some("scalingModifiers") => FallbackBehavior::ScalingModifiers,
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "{at}.behavior must be one of static, currentReplicas, currentReplicasIfHigher, currentReplicasIfLower, scalingModifiers, got {other:?}"
            )));
        }
    };
    Ok(Fallback {
        failure_threshold: int("failureThreshold")?,
        replicas: int("replicas")?,
        behavior,
    })
}

fn scaling_modifiers(m: &Value) -> Result<Option<ScalingModifiers>> {
    let at = "spec.advanced.scalingModifiers";
    let formula = match m.get("formula") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "{at}.formula must be a string, got {other}"
            )));
        }
    };
    let target = match m.get("target") {
        Some(v) => number(v, &format!("{at}.target"))?,
        None => {
            return Err(Error::invalid_config(format!(
                "{at}.target must be set with a formula"
            )));
        }
    };
    let activation_target = match m.get("activationTarget") {
        None | Some(Value::Null) => 0.0,
        Some(v) => number(v, &format!("{at}.activationTarget"))?,
    };
    let metric_type = match m.get("metricType").and_then(Value::as_str) {
        None | Some("AverageValue") => TriggerMetricType::AverageValue,
        Some("Value") => TriggerMetricType::Value,
        Some(other) => {
            return Err(Error::invalid_config(format!(
                "{at}.metricType must be AverageValue or Value, got {other:?}"
            )));
        }
    };
    Ok(Some(ScalingModifiers {
        formula,
        target,
        activation_target,
        metric_type,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_type_is_listed_once() {
        for (i, k) in TRIGGER_KEYS.iter().enumerate() {
            assert!(
                TRIGGER_KEYS[i + 1..].iter().all(|o| o.kind != k.kind),
                "{} twice",
                k.kind
            );
        }
        assert!(TRIGGER_KEYS.windows(2).all(|w| w[0].kind < w[1].kind));
    }
}
