//! `VerticalPodAutoscalerCheckpoint` compatibility (spec §10): the same JSON field names as the
//! VPA's checkpoint status, so a real checkpoint (`kubectl get vpacheckpoint -o json`) seeds
//! replicast and replicast's checkpoints load into a real recommender.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::container::AggregateState;
use super::gotime;
use crate::error::{Error, Result};
use crate::time::GO_ZERO_TIME_MS;

/// The only checkpoint version the VPA (and replicast) accepts.
pub const CHECKPOINT_VERSION: &str = "v3";

/// `HistogramCheckpoint`: bucket weights scaled so the heaviest is 10000, the exact total
/// weight, and the decaying histogram's reference time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistogramCheckpoint {
    /// The reference time of the decay (RFC 3339; `null` = Go's zero time).
    #[serde(default, with = "kube_time", skip_serializing_if = "Option::is_none")]
    pub reference_timestamp: Option<i64>,
    /// Bucket index → weight in [0, 10000] (stored as a JSON object with string keys, as Go's
    /// `map[int]uint32`). Signed here so a bad checkpoint is reported, not misread.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bucket_weights: BTreeMap<i64, i64>,
    /// The histogram's total weight.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub total_weight: f64,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

/// `VerticalPodAutoscalerCheckpointStatus`: one container's aggregate.
///
/// ```
/// use replicast::vpa::checkpoint::CheckpointStatus;
/// let status: CheckpointStatus = serde_json::from_str(r#"{
///   "version": "v3",
///   "cpuHistogram": {"referenceTimestamp": "2024-01-02T00:00:00Z", "bucketWeights": {"25": 10000}, "totalWeight": 14.4},
///   "memoryHistogram": {"referenceTimestamp": "2024-01-02T00:00:00Z", "bucketWeights": {"26": 10000}, "totalWeight": 1.0},
///   "firstSampleStart": "2024-01-01T00:00:00Z",
///   "lastSampleStart": "2024-01-01T23:59:00Z",
///   "totalSamplesCount": 1440
/// }"#).unwrap();
/// assert_eq!(status.cpu_histogram.bucket_weights[&25], 10000);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointStatus {
    /// When the checkpoint was written.
    #[serde(default, with = "kube_time", skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<i64>,
    /// Must be `"v3"`.
    #[serde(default)]
    pub version: String,
    /// The CPU usage histogram (cores).
    #[serde(default)]
    pub cpu_histogram: HistogramCheckpoint,
    /// The memory peaks histogram (bytes).
    #[serde(default)]
    pub memory_histogram: HistogramCheckpoint,
    /// Start of the earliest CPU sample.
    #[serde(default, with = "kube_time", skip_serializing_if = "Option::is_none")]
    pub first_sample_start: Option<i64>,
    /// Start of the latest CPU sample.
    #[serde(default, with = "kube_time", skip_serializing_if = "Option::is_none")]
    pub last_sample_start: Option<i64>,
    /// Number of CPU samples.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub total_samples_count: i64,
}

/// A whole `VerticalPodAutoscalerCheckpoint` object (`autoscaling.k8s.io/v1`), as
/// `kubectl get vpacheckpoint NAME -o json` prints it; fields other than these are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerticalPodAutoscalerCheckpoint {
    /// `autoscaling.k8s.io/v1`.
    pub api_version: String,
    /// `VerticalPodAutoscalerCheckpoint`.
    pub kind: String,
    /// `metadata` (only `name` and `namespace` are kept).
    #[serde(default)]
    pub metadata: CheckpointMetadata,
    /// Which VPA and container the checkpoint belongs to.
    pub spec: CheckpointSpec,
    /// The aggregate.
    #[serde(default)]
    pub status: CheckpointStatus,
}

/// The kept part of a checkpoint's `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointMetadata {
    /// Object name (upstream: `{vpa}-{container}`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Namespace.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

/// `VerticalPodAutoscalerCheckpointSpec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointSpec {
    /// The VPA's name.
    #[serde(default, rename = "vpaObjectName")]
    pub vpa_object_name: String,
    /// The container's name.
    #[serde(default)]
    pub container_name: String,
}

impl VerticalPodAutoscalerCheckpoint {
    /// Parses a checkpoint object from JSON or YAML text.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Serialization`] for malformed text, a wrong `kind` / `apiVersion`, or
    /// an empty `spec.containerName`.
    pub fn from_text(text: &str) -> Result<Self> {
        // through a JSON value: JSON object keys are strings, which serde_json reads as the
        // integer bucket indexes (YAML would keep a quoted "25" a string)
        let value: serde_json::Value = serde_yaml_ng::from_str(text)
            .map_err(|e| Error::serialization(format!("malformed checkpoint: {e}")))?;
        let cp: Self = serde_json::from_value(value)
            .map_err(|e| Error::serialization(format!("malformed checkpoint: {e}")))?;
        if cp.kind != "VerticalPodAutoscalerCheckpoint" {
            return Err(Error::serialization(format!(
                "kind must be VerticalPodAutoscalerCheckpoint, got {:?}",
                cp.kind
            )));
        }
        if cp.api_version != "autoscaling.k8s.io/v1" {
            return Err(Error::serialization(format!(
                "apiVersion must be autoscaling.k8s.io/v1, got {:?}",
                cp.api_version
            )));
        }
        if cp.spec.container_name.is_empty() {
            return Err(Error::serialization(
                "spec.containerName must be a non-empty string",
            ));
        }
        Ok(cp)
    }

    /// A checkpoint object for `container` of the VPA `vpa_name`, named as upstream names it.
    #[must_use]
    pub fn new(vpa_name: &str, container: &str, status: CheckpointStatus) -> Self {
        Self {
            api_version: "autoscaling.k8s.io/v1".to_owned(),
            kind: "VerticalPodAutoscalerCheckpoint".to_owned(),
            metadata: CheckpointMetadata {
                name: format!("{vpa_name}-{container}"),
                namespace: String::new(),
            },
            spec: CheckpointSpec {
                vpa_object_name: vpa_name.to_owned(),
                container_name: container.to_owned(),
            },
            status,
        }
    }
}

impl AggregateState {
    /// Upstream `SaveToCheckpoint` (spec §10); `now_ms` becomes `lastUpdateTime`.
    #[must_use]
    pub fn save_checkpoint(&self, now_ms: i64) -> CheckpointStatus {
        let histogram = |h: &super::decaying::DecayingHistogram| {
            let (bucket_weights, total_weight, reference) = h.save();
            HistogramCheckpoint {
                reference_timestamp: (reference != GO_ZERO_TIME_MS).then_some(reference),
                bucket_weights,
                total_weight,
            }
        };
        CheckpointStatus {
            last_update_time: Some(now_ms),
            version: CHECKPOINT_VERSION.to_owned(),
            cpu_histogram: histogram(&self.cpu),
            memory_histogram: histogram(&self.memory),
            first_sample_start: self.first_sample_start_ms,
            last_sample_start: self.last_sample_start_ms,
            total_samples_count: i64::try_from(self.total_samples_count).unwrap_or(i64::MAX),
        }
    }

    /// Upstream `LoadFromCheckpoint`: takes the sample times and count, appends the histograms'
    /// weights and takes their reference times. All-or-nothing: on error `self` is unchanged.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Serialization`] when the version is not `"v3"`, a total weight is
    /// negative or not finite, a bucket index is negative or past the last bucket, a weight is
    /// outside [0, 2³²−1], the sample count is negative, a time is outside years 1–9999, or
    /// `firstSampleStart` is after `lastSampleStart`.
    pub fn load_checkpoint(&mut self, checkpoint: &CheckpointStatus) -> Result<()> {
        if checkpoint.version != CHECKPOINT_VERSION {
            return Err(Error::serialization(format!(
                "unsupported checkpoint version {:?}, only {CHECKPOINT_VERSION:?} is supported",
                checkpoint.version
            )));
        }
        if checkpoint.total_samples_count < 0 {
            return Err(Error::serialization(format!(
                "totalSamplesCount must be >= 0, got {}",
                checkpoint.total_samples_count
            )));
        }
        for (name, t) in [
            ("firstSampleStart", checkpoint.first_sample_start),
            ("lastSampleStart", checkpoint.last_sample_start),
            (
                "cpuHistogram.referenceTimestamp",
                checkpoint.cpu_histogram.reference_timestamp,
            ),
            (
                "memoryHistogram.referenceTimestamp",
                checkpoint.memory_histogram.reference_timestamp,
            ),
        ] {
            if let Some(t) = t
                && t != GO_ZERO_TIME_MS
                && !gotime::in_range(t)
            {
                return Err(Error::serialization(format!(
                    "{name} must be between years 1 and 9999, got {t} ms"
                )));
            }
        }
        if let (Some(first), Some(last)) =
            (checkpoint.first_sample_start, checkpoint.last_sample_start)
            && first > last
        {
            return Err(Error::serialization(format!(
                "firstSampleStart ({}) must not be after lastSampleStart ({})",
                gotime::format_rfc3339(first),
                gotime::format_rfc3339(last)
            )));
        }
        let mut next = self.clone();
        let zero_is_none = |t: Option<i64>| t.filter(|&t| t != GO_ZERO_TIME_MS);
        next.total_samples_count = checkpoint.total_samples_count as u64;
        next.first_sample_start_ms = zero_is_none(checkpoint.first_sample_start);
        next.last_sample_start_ms = zero_is_none(checkpoint.last_sample_start);
        next.memory.load(
            &checkpoint.memory_histogram.bucket_weights,
            checkpoint.memory_histogram.total_weight,
            checkpoint
                .memory_histogram
                .reference_timestamp
                .unwrap_or(GO_ZERO_TIME_MS),
            "memoryHistogram",
        )?;
        next.cpu.load(
            &checkpoint.cpu_histogram.bucket_weights,
            checkpoint.cpu_histogram.total_weight,
            checkpoint
                .cpu_histogram
                .reference_timestamp
                .unwrap_or(GO_ZERO_TIME_MS),
            "cpuHistogram",
        )?;
        *self = next;
        Ok(())
    }
}

/// `metav1.Time` ⇄ `Option<i64>` ms: RFC 3339 in UTC (whole seconds when the time has no
/// milliseconds, as Kubernetes writes it; `.mmm` otherwise, which Go also parses), `null` for
/// Go's zero time.
mod kube_time {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::gotime;
    use crate::time::GO_ZERO_TIME_MS;

    #[allow(clippy::ref_option)] // serde's `with` passes a reference
    pub(super) fn serialize<S: Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) if *t != GO_ZERO_TIME_MS => {
                let whole = gotime::format_rfc3339(*t);
                let ms = t.rem_euclid(1000);
                if ms == 0 {
                    s.serialize_str(&whole)
                } else {
                    s.serialize_str(&format!("{}.{ms:03}Z", &whole[..whole.len() - 1]))
                }
            }
            _ => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        match text {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => gotime::parse_rfc3339(&s)
                .map(|t| (t != GO_ZERO_TIME_MS).then_some(t))
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "invalid time {s:?}: expected RFC 3339 such as \"2024-01-01T00:00:00Z\""
                    ))
                }),
        }
    }
}
