//! Configuration: what a [`crate::Scaler`] decides with.
//!
//! A [`ScalerSpec`] loads from JSON or YAML in three forms, detected from the document:
//!
//! 1. replicast's own format (snake_case; unknown fields are rejected);
//! 2. a Kubernetes `HorizontalPodAutoscaler` manifest (`apiVersion: autoscaling/v2`), with the
//!    API server's defaults applied; fields that do not bear on the decision (`metadata`,
//!    `scaleTargetRef`, `status`, an Object metric's `describedObject`...) are ignored; or a
//!    KEDA `ScaledObject` (`keda.sh/v1alpha1`) with KEDA's defaults (a [`KedaSpec`]); or a
//!    `VerticalPodAutoscaler` (a [`VpaSpec`]); or a Knative `Service`, `Configuration` or
//!    `Revision` (a [`KpaSpec`] from its `autoscaling.knative.dev/*` annotations); several of
//!    them in one YAML file (`---`) make one spec: a horizontal autoscaler with a VPA (and
//!    Knative's `config-autoscaler` ConfigMap for a Knative revision);
//! 3. the seed's flat threshold settings (`cpu_threshold_up: 70%`, `scale_up_cooldown: 30s`).
//!
//! Every invalid value is rejected with an [`crate::ErrorKind::InvalidConfig`] error naming the field,
//! the value and the valid range.
//!
//! ```
//! use replicast::ScalerSpec;
//! let spec = ScalerSpec::from_yaml(r#"
//! min_replicas: 2
//! max_replicas: 20
//! hpa:
//!   metrics:
//!     - type: resource
//!       resource: cpu
//!       target: {type: utilization, average_utilization: 70}
//! "#).unwrap();
//! assert_eq!(spec.max_replicas, 20);
//! ```

mod hpa;
mod knative;
mod manifest;
mod quantity;
mod scaled_object;
mod threshold;

use serde::{Deserialize, Serialize};

pub use crate::source::keda::KedaSpec;
pub use crate::source::kpa::KpaSpec;
pub use crate::source::predictive::{
    ForecastScaleIn, PredictiveMode, PredictiveSpec, ScheduledFloor, Slo, Weekday,
};
pub use crate::vpa::VpaSpec;
pub use hpa::{
    Behavior, Compatibility, ControllerConfig, DescribedObject, LabelSelector,
    LabelSelectorRequirement, MetricSpec, MetricTarget, MissingContainerMetric, MissingFallback,
    PolicyType, ScaleFromZero, ScalingPolicy, ScalingRules, SelectPolicy, TargetType, TerminalPods,
    ToleranceCompare,
};
pub use quantity::Quantity;
pub use scaled_object::{TRIGGER_KEYS, TriggerKeys, trigger_keys};
pub use threshold::{ScaleStep, StepKind, ThresholdRule, ThresholdSpec, seed_presets};

use crate::error::{Error, Result};

/// The whole configuration of one scaler: replica bounds, the enabled sources, and the
/// hysteresis applied to their combined proposal.
///
/// | field | default | unit / range | meaning |
/// | --- | --- | --- | --- |
/// | `min_replicas` | 1 | 0 ..= `max_replicas` | lower bound (0 only with scale-to-zero) |
/// | `max_replicas` | required | 1 ..= 2³¹−1 | upper bound |
/// | `hpa` | none | | Kubernetes HPA metrics source |
/// | `threshold` | none | | the seed's threshold bands source |
/// | `predictive` | none | | forecast-driven source ([`PredictiveSpec`]) |
/// | `keda` | none | | a KEDA ScaledObject's triggers, activation, fallback and formula ([`KedaSpec`]) |
/// | `kpa` | none | | Knative's KPA: stable/panic windows, rate limits, scale to zero ([`KpaSpec`]; its bounds are `min_replicas` / `max_replicas`) |
/// | `vpa` | none | | the vertical recommender: requests and limits per container ([`VpaSpec`]), coordinated with the horizontal sources |
/// | `behavior` | none | | Kubernetes behavior: stabilization windows and rate-limit policies |
/// | `cooldown` | none | s | minimum time after a scale-up / scale-down before the next one |
/// | `controller` | production defaults | | kube-controller-manager flags and compatibility profile |
///
/// With an `hpa` source and no `behavior`, the Kubernetes legacy path applies (5-minute
/// downscale stabilization, scale-up cap `max(2 × current, 4)`), exactly as an HPA without
/// `spec.behavior`. Without an `hpa` source and no `behavior`, proposals pass unsmoothed to the
/// cooldown and the bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalerSpec {
    /// Lower bound on replicas.
    #[serde(default = "default_min_replicas")]
    pub min_replicas: u32,
    /// Upper bound on replicas.
    pub max_replicas: u32,
    /// The Kubernetes HPA source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hpa: Option<HpaSource>,
    /// The threshold-band source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdSpec>,
    /// The predictive source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictive: Option<PredictiveSpec>,
    /// KEDA's triggers and scale loop (instead of `hpa`: KEDA generates the HPA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keda: Option<KedaSpec>,
    /// Knative's KPA (instead of `hpa` and `keda`: a revision has one autoscaler class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpa: Option<KpaSpec>,
    /// The vertical recommender (requests and limits), beside the horizontal sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpa: Option<VpaSpec>,
    /// Kubernetes-style stabilization and rate limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<Behavior>,
    /// Cooldowns between scaling actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<Cooldown>,
    /// Controller flags and the compatibility profile.
    #[serde(default, skip_serializing_if = "ControllerConfig::is_default")]
    pub controller: ControllerConfig,
}

fn default_min_replicas() -> u32 {
    1
}

/// The namespace an HPA without one lives in (Kubernetes' `default`).
pub const DEFAULT_NAMESPACE: &str = "default";

/// The HPA source: the metrics of `spec.metrics`, evaluated as the Kubernetes controller does.
///
/// | field | default | meaning |
/// | --- | --- | --- |
/// | `metrics` | CPU utilization at 80 % | `spec.metrics` |
/// | `namespace` | `default` | `metadata.namespace`; only named in error messages, where the controller qualifies pods, objects and external metrics with it |
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HpaSource {
    /// The metrics; empty means the Kubernetes default, CPU utilization at 80 %.
    #[serde(default)]
    pub metrics: Vec<MetricSpec>,
    /// The HPA's namespace (`metadata.namespace`); unset means [`DEFAULT_NAMESPACE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl HpaSource {
    /// The HPA's namespace: `namespace`, or [`DEFAULT_NAMESPACE`].
    ///
    /// ```
    /// use replicast::spec::HpaSource;
    /// assert_eq!(HpaSource::default().namespace(), "default");
    /// ```
    #[must_use]
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE)
    }

    /// The metrics with the API default applied (no metrics ⇒ `cpu` utilization 80 %).
    #[must_use]
    pub fn defaulted_metrics(&self) -> Vec<MetricSpec> {
        if self.metrics.is_empty() {
            vec![MetricSpec::Resource {
                resource: "cpu".to_owned(),
                target: MetricTarget::utilization(80),
            }]
        } else {
            self.metrics.clone()
        }
    }
}

/// Minimum time between scaling actions, per direction (the seed's aggressive preset is
/// 30 s / 120 s, the conservative one 60 s / 300 s).
///
/// | field | default | unit |
/// | --- | --- | --- |
/// | `scale_up_s` | 0 | s after the last rescale before a scale-up |
/// | `scale_down_s` | 0 | s after the last rescale before a scale-down |
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cooldown {
    /// Seconds after the last rescale during which no scale-up happens.
    pub scale_up_s: u32,
    /// Seconds after the last rescale during which no scale-down happens.
    pub scale_down_s: u32,
}

/// Longest accepted cooldown: one day.
const MAX_COOLDOWN_S: u32 = 86_400;

impl ScalerSpec {
    /// Parses and validates a spec from JSON (any of the three forms).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] for malformed JSON, unknown fields, or invalid values.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::invalid_config(format!("malformed JSON spec: {e}")))?;
        Self::from_value(value).map_err(|e| {
            // serde's message for replicast's own format names no position: parsing the text
            // again gives it, with the text before it
            match serde_json::from_str::<Self>(text) {
                Err(serde) if e.message().starts_with("invalid spec: ") => Error::invalid_config(
                    format!("invalid spec: {}", crate::error::located(text, &serde)),
                ),
                _ => e,
            }
        })
    }

    /// Parses and validates a spec from YAML (any of the three forms).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] for malformed YAML, unknown fields, or invalid values.
    pub fn from_yaml(text: &str) -> Result<Self> {
        if threshold::looks_like_seed_format(text) {
            return threshold::from_seed_yaml(text).and_then(ScalerSpec::validated);
        }
        let mut documents = Vec::new();
        for document in serde_yaml_ng::Deserializer::from_str(text) {
            let value = serde_json::Value::deserialize(document)
                .map_err(|e| Error::invalid_config(format!("malformed YAML spec: {e}")))?;
            if !value.is_null() {
                documents.push(value);
            }
        }
        match documents.len() {
            0 => Err(Error::invalid_config("empty YAML spec")),
            1 => Self::from_value(documents.remove(0)),
            _ => Self::from_manifests(documents),
        }
    }

    /// Several manifests in one file (`---` between them): one horizontal autoscaler (an
    /// HPA, a ScaledObject, or a Knative Service / Configuration / Revision, after Knative's
    /// `config-autoscaler` ConfigMap if the file has it) and one VerticalPodAutoscaler become
    /// one spec deciding both.
    fn from_manifests(documents: Vec<serde_json::Value>) -> Result<Self> {
        let mut horizontal: Option<ScalerSpec> = None;
        let mut vertical: Option<VpaSpec> = None;
        let cluster = match documents.iter().find(|d| knative::is_config_autoscaler(d)) {
            Some(config) => knative::cluster_defaults(config)
                .map_err(|e| e.context("ConfigMap config-autoscaler"))?,
            None => KpaSpec::default(),
        };
        for (i, document) in documents.into_iter().enumerate() {
            if knative::is_config_autoscaler(&document) {
                continue;
            }
            if !manifest::is_manifest(&document) {
                return Err(Error::invalid_config(format!(
                    "document {} of a multi-document spec must be a Kubernetes manifest (apiVersion and kind)",
                    i + 1
                )));
            }
            let kind = document["kind"].as_str().unwrap_or_default().to_owned();
            let spec = if knative::is_knative(&document) {
                knative::scaler_spec_from_knative(&document, &cluster)
            } else {
                manifest::scaler_spec_from_manifest(&document)
            }
            .map_err(|e| e.context(format!("document {} ({kind})", i + 1)))?;
            if kind == "VerticalPodAutoscaler" {
                if vertical.replace(spec.vpa.unwrap_or_default()).is_some() {
                    return Err(Error::invalid_config(
                        "a multi-document spec may hold one VerticalPodAutoscaler, got two",
                    ));
                }
            } else if horizontal.replace(spec).is_some() {
                return Err(Error::invalid_config(
                    "a multi-document spec may hold one horizontal autoscaler (HorizontalPodAutoscaler or ScaledObject), got two",
                ));
            }
        }
        let mut spec = horizontal.ok_or_else(|| {
            Error::invalid_config(
                "a multi-document spec needs a HorizontalPodAutoscaler, ScaledObject or Knative Service beside the VerticalPodAutoscaler or ConfigMap",
            )
        })?;
        spec.vpa = vertical;
        spec.validated()
    }

    /// Builds and validates a spec from an already parsed JSON value (any of the three forms).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] for unknown fields or invalid values.
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        let spec = if manifest::is_manifest(&value) {
            manifest::scaler_spec_from_manifest(&value)?
        } else if threshold::is_seed_value(&value) {
            threshold::from_seed_value(&value)?
        } else {
            serde_json::from_value(value)
                .map_err(|e| Error::invalid_config(format!("invalid spec: {e}")))?
        };
        spec.validated()
    }

    /// The spec as pretty JSON in replicast's own format.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The KPA source with the scaler's bounds as its `min_scale` / `max_scale`, validated.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] when the spec also has `hpa` or `keda`, sets the KPA's
    /// own `min_scale` / `max_scale` (the scaler's `min_replicas` / `max_replicas` are its
    /// bounds), or has an invalid KPA setting.
    pub(crate) fn kpa_with_bounds(&self) -> Result<Option<crate::source::kpa::Kpa>> {
        let Some(kpa) = &self.kpa else {
            return Ok(None);
        };
        if self.hpa.is_some() || self.keda.is_some() {
            return Err(Error::invalid_config(
                "kpa must not be set with hpa or keda: a Knative revision has one autoscaler class",
            ));
        }
        if kpa.min_scale != 0 || kpa.max_scale != 0 {
            return Err(Error::invalid_config(format!(
                "kpa.min_scale and kpa.max_scale must be left unset (got {} and {}): the scaler's min_replicas and max_replicas are the KPA's bounds",
                kpa.min_scale, kpa.max_scale
            )));
        }
        crate::source::kpa::Kpa::new(KpaSpec {
            min_scale: self.min_replicas,
            max_scale: self.max_replicas,
            ..kpa.clone()
        })
        .map(Some)
        .map_err(|e| e.context("kpa"))
    }

    fn validated(self) -> Result<Self> {
        self.validate()?;
        Ok(self)
    }

    /// Checks every value against its valid range.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the first invalid field, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        if self.max_replicas == 0 || self.max_replicas > i32::MAX as u32 {
            return Err(Error::invalid_config(format!(
                "max_replicas must be in [1, {}], got {}",
                i32::MAX,
                self.max_replicas
            )));
        }
        if self.min_replicas > self.max_replicas {
            return Err(Error::invalid_config(format!(
                "min_replicas must be <= max_replicas ({}), got {}",
                self.max_replicas, self.min_replicas
            )));
        }
        if self.hpa.is_none()
            && self.threshold.is_none()
            && self.predictive.is_none()
            && self.keda.is_none()
            && self.kpa.is_none()
            && self.vpa.is_none()
        {
            return Err(Error::invalid_config(
                "spec enables no source: set at least one of hpa, keda, kpa, threshold, predictive, vpa",
            ));
        }
        if let Some(vpa) = &self.vpa {
            vpa.validate().map_err(|e| e.context("vpa"))?;
        }
        if self.kpa.is_some() {
            self.kpa_with_bounds()?;
        }
        if let Some(keda) = &self.keda {
            if self.hpa.is_some() {
                return Err(Error::invalid_config(
                    "hpa and keda must not both be set: a KEDA ScaledObject generates its own HPA from its triggers",
                ));
            }
            keda.validate(self.min_replicas)?;
        }
        if let Some(predictive) = &self.predictive {
            predictive.validate()?;
        }
        if let Some(hpa) = &self.hpa {
            validate_metrics(&hpa.metrics)?;
            if self.min_replicas == 0 {
                let has_object_or_external = hpa
                    .metrics
                    .iter()
                    .any(|m| matches!(m, MetricSpec::Object { .. } | MetricSpec::External { .. }));
                if !(self.controller.compatibility.scale_to_zero_gate && has_object_or_external) {
                    return Err(Error::invalid_config(
                        "min_replicas must be >= 1 with an hpa source, got 0 (0 needs controller.compatibility.scale_to_zero_gate and an object or external metric)",
                    ));
                }
            }
        }
        if let Some(threshold) = &self.threshold {
            threshold.validate()?;
        }
        if let Some(behavior) = &self.behavior {
            validate_rules("behavior.scale_up", &behavior.scale_up)?;
            validate_rules("behavior.scale_down", &behavior.scale_down)?;
        }
        if let Some(cooldown) = &self.cooldown {
            for (field, value) in [
                ("cooldown.scale_up_s", cooldown.scale_up_s),
                ("cooldown.scale_down_s", cooldown.scale_down_s),
            ] {
                if value > MAX_COOLDOWN_S {
                    return Err(Error::invalid_config(format!(
                        "{field} must be in [0, {MAX_COOLDOWN_S}] seconds, got {value}"
                    )));
                }
            }
        }
        validate_controller(&self.controller)
    }
}

fn validate_metrics(metrics: &[MetricSpec]) -> Result<()> {
    for (i, metric) in metrics.iter().enumerate() {
        let at = format!("hpa.metrics[{i}]");
        let name_ok = |field: &str, name: &str| -> Result<()> {
            if name.trim().is_empty() {
                Err(Error::invalid_config(format!(
                    "{at}.{field} must not be empty"
                )))
            } else {
                Ok(())
            }
        };
        match metric {
            MetricSpec::Resource { resource, target } => {
                name_ok("resource", resource)?;
                validate_resource_target(&at, target)?;
            }
            MetricSpec::ContainerResource {
                resource,
                container,
                target,
            } => {
                name_ok("resource", resource)?;
                name_ok("container", container)?;
                validate_resource_target(&at, target)?;
            }
            MetricSpec::Pods { name, target } => {
                name_ok("name", name)?;
                if target.kind != TargetType::AverageValue {
                    return Err(Error::invalid_config(format!(
                        "{at}.target.type must be average_value for a pods metric, got {:?}",
                        target.kind
                    )));
                }
                positive_quantity(&at, "average_value", target.average_value)?;
            }
            MetricSpec::Object { name, target, .. } | MetricSpec::External { name, target, .. } => {
                name_ok("name", name)?;
                match target.kind {
                    TargetType::Value => positive_quantity(&at, "value", target.value)?,
                    TargetType::AverageValue => {
                        positive_quantity(&at, "average_value", target.average_value)?;
                    }
                    TargetType::Utilization => {
                        return Err(Error::invalid_config(format!(
                            "{at}.target.type must be value or average_value for an {} metric, got utilization",
                            metric.kind_name().to_lowercase()
                        )));
                    }
                }
            }
            MetricSpec::Unsupported { type_name } => {
                return Err(Error::invalid_config(format!(
                    "{at}.type must be one of resource, container_resource, pods, object, external, got {type_name:?}"
                )));
            }
        }
    }
    Ok(())
}

fn validate_resource_target(at: &str, target: &MetricTarget) -> Result<()> {
    match target.kind {
        TargetType::Utilization => match target.average_utilization {
            Some(u) if u > 0 => Ok(()),
            Some(u) => Err(Error::invalid_config(format!(
                "{at}.target.average_utilization must be > 0 percent, got {u}"
            ))),
            None => Err(Error::invalid_config(format!(
                "{at}.target.average_utilization must be set for a utilization target"
            ))),
        },
        TargetType::AverageValue => positive_quantity(at, "average_value", target.average_value),
        TargetType::Value => Err(Error::invalid_config(format!(
            "{at}.target.type must be utilization or average_value for a resource metric, got value"
        ))),
    }
}

fn positive_quantity(at: &str, field: &str, q: Option<Quantity>) -> Result<()> {
    match q {
        Some(q) if q.milli() > 0 => Ok(()),
        Some(q) => Err(Error::invalid_config(format!(
            "{at}.target.{field} must be > 0, got {q}"
        ))),
        None => Err(Error::invalid_config(format!(
            "{at}.target.{field} must be set for this target type"
        ))),
    }
}

fn validate_rules(at: &str, rules: &ScalingRules) -> Result<()> {
    if let Some(w) = rules.stabilization_window_s
        && w > 3600
    {
        return Err(Error::invalid_config(format!(
            "{at}.stabilization_window_s must be in [0, 3600], got {w}"
        )));
    }
    for (i, p) in rules.policies.iter().enumerate() {
        if p.value <= 0 {
            return Err(Error::invalid_config(format!(
                "{at}.policies[{i}].value must be > 0, got {}",
                p.value
            )));
        }
        if p.period_s <= 0 || p.period_s > 1800 {
            return Err(Error::invalid_config(format!(
                "{at}.policies[{i}].period_s must be in [1, 1800], got {}",
                p.period_s
            )));
        }
    }
    if let Some(t) = rules.tolerance
        && !(t.is_finite() && t >= 0.0)
    {
        return Err(Error::invalid_config(format!(
            "{at}.tolerance must be a finite number >= 0, got {t}"
        )));
    }
    Ok(())
}

fn validate_controller(c: &ControllerConfig) -> Result<()> {
    if !(c.tolerance.is_finite() && c.tolerance >= 0.0) {
        return Err(Error::invalid_config(format!(
            "controller.tolerance must be a finite number >= 0, got {}",
            c.tolerance
        )));
    }
    for (field, v) in [
        ("controller.scale_up_limit_factor", c.scale_up_limit_factor),
        (
            "controller.scale_up_limit_minimum",
            c.scale_up_limit_minimum,
        ),
    ] {
        if !(v.is_finite() && v > 0.0 && v <= f64::from(i32::MAX)) {
            return Err(Error::invalid_config(format!(
                "{field} must be in (0, {}], got {v}",
                i32::MAX
            )));
        }
    }
    for (field, v) in [
        (
            "controller.downscale_stabilization_window_s",
            c.downscale_stabilization_window_s,
        ),
        (
            "controller.cpu_initialization_period_s",
            c.cpu_initialization_period_s,
        ),
        (
            "controller.initial_readiness_delay_s",
            c.initial_readiness_delay_s,
        ),
    ] {
        if v > 86_400 {
            return Err(Error::invalid_config(format!(
                "{field} must be in [0, 86400] seconds, got {v}"
            )));
        }
    }
    Ok(())
}
