//! [`KpaSpec`]: Knative's `config-autoscaler` settings and a revision's
//! `autoscaling.knative.dev/*` annotations, in one flat value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::duration::parse_go_duration;
use super::window::MAX_WINDOW_S;
use crate::error::{Error, Result};

/// The smallest per-pod target Knative accepts (`TargetMin`).
pub const TARGET_MIN: f64 = 0.01;

/// Which revision-wide total the KPA scales on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KpaMetric {
    /// In-flight requests (the default).
    #[default]
    Concurrency,
    /// Requests per second.
    Rps,
}

impl KpaMetric {
    /// The metric's name, as Knative's `metric` annotation spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            KpaMetric::Concurrency => "concurrency",
            KpaMetric::Rps => "rps",
        }
    }
}

/// How a window of 1 s buckets is averaged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// The plain mean over the series' span in the window (the default).
    #[default]
    Linear,
    /// Exponentially decaying weights, newest heaviest.
    WeightedExponential,
}

/// A KPA's settings: the cluster's `config-autoscaler` values with a revision's annotations
/// applied. Every field has Knative's production default; the serde form is snake_case and
/// rejects unknown fields.
///
/// | field | default | unit / range | Knative key (`config-autoscaler` / `autoscaling.knative.dev/` annotation) |
/// | --- | --- | --- | --- |
/// | `metric` | `concurrency` | `concurrency` or `rps` | — / `metric` |
/// | `container_concurrency` | 0 | requests, 0 = unlimited | revision `spec.containerConcurrency` |
/// | `target` | unset | total per pod, ≥ 0.01 | — / `target` |
/// | `target_utilization_percentage` | unset | [1, 100] | — / `target-utilization-percentage` |
/// | `container_concurrency_target_percentage` | 70 | (0, 100]; ≤ 1 is read as a fraction | `container-concurrency-target-percentage` |
/// | `container_concurrency_target_default` | 100 | requests; × fraction ≥ 0.01 | `container-concurrency-target-default` |
/// | `requests_per_second_target_default` | 200 | rps, ≥ 0.01 | `requests-per-second-target-default` |
/// | `rps_target_utilization_percentage` | 70 | (0, 100] | (no key; Knative's hard-coded 0.7) |
/// | `target_burst_capacity` | 211 | requests, ≥ 0 or −1 (unlimited) | `target-burst-capacity` / same |
/// | `stable_window_s` | 60 | s, [6, 3600] | `stable-window` / `window` |
/// | `panic_window_percentage` | 10 | % of the stable window, [1, 100] | same / same |
/// | `panic_threshold_percentage` | 200 | % of ready capacity, > 0 (annotation [110, 1000]) | same / same |
/// | `max_scale_up_rate` | 1000 | ratio, > 1 | `max-scale-up-rate` |
/// | `max_scale_down_rate` | 2 | ratio, > 1 | `max-scale-down-rate` |
/// | `scale_down_delay_s` | 0 | s, [0, 3600] | same / same |
/// | `activation_scale` | 0 (unset) | pods, 0 or ≥ 2, within [min, max] | — / `activation-scale` |
/// | `initial_scale` | 1 | pods, ≥ 1 (≥ 0 with `allow_zero_initial_scale`) | same / same |
/// | `allow_zero_initial_scale` | false | | same |
/// | `min_scale` | 0 | pods | same / same |
/// | `max_scale` | 0 (unbounded) | pods, ≥ min when set | same / same |
/// | `max_scale_limit` | 0 (none) | pods; when set, `max_scale` must be in [1, limit] | same |
/// | `enable_scale_to_zero` | true | | same |
/// | `scale_to_zero_grace_period_s` | 30 | s, > 0 | same |
/// | `scale_to_zero_pod_retention_period_s` | 0 | s, ≥ 0 (annotation ≤ 3600) | same / same |
/// | `aggregation` | `linear` | `linear` or `weighted_exponential` | — / `metric-aggregation-algorithm` |
/// | `progress_deadline_s` | 600 | s, > 0 | `config-deployment` `progress-deadline` / `serving.knative.dev/progress-deadline` |
/// | `activator_capacity` | 100 | requests per activator, ≥ 1 | same |
/// | `reachable` | true | whether a route sends traffic to the revision | PodAutoscaler `spec.reachability` |
///
/// ```
/// use replicast::kpa::{KpaSpec, KpaMetric};
/// let spec: KpaSpec = serde_json::from_str(r#"{"metric": "rps", "target": 50}"#).unwrap();
/// spec.validate().unwrap();
/// assert_eq!(spec.resolve_target(), (35.0, 50.0)); // 50 rps × 70 % per pod, total 50
/// assert_eq!(KpaSpec::default().resolve_target(), (70.0, 100.0));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KpaSpec {
    /// The metric scaled on.
    pub metric: KpaMetric,
    /// The revision's hard concurrency limit per pod (0 = unlimited).
    pub container_concurrency: u32,
    /// The per-pod total target (`autoscaling.knative.dev/target`); with a concurrency metric
    /// and a non-zero `container_concurrency` it is capped at `container_concurrency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// The per-revision utilization of the total target, percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_utilization_percentage: Option<f64>,
    /// The cluster utilization of a concurrency target, percent; values ≤ 1 are fractions.
    pub container_concurrency_target_percentage: f64,
    /// The per-pod concurrency total when `container_concurrency` is 0.
    pub container_concurrency_target_default: f64,
    /// The per-pod rps total.
    pub requests_per_second_target_default: f64,
    /// The cluster utilization of an rps target, percent.
    pub rps_target_utilization_percentage: f64,
    /// Spare capacity to keep before the activator leaves the request path (−1: always in path).
    pub target_burst_capacity: f64,
    /// The stable window, seconds.
    pub stable_window_s: u32,
    /// The panic window as a percentage of the stable window.
    pub panic_window_percentage: f64,
    /// Panic when the panic window wants this percentage of the ready pods.
    pub panic_threshold_percentage: f64,
    /// At most this many times the ready pods per decision.
    pub max_scale_up_rate: f64,
    /// At least the ready pods divided by this per decision.
    pub max_scale_down_rate: f64,
    /// Scale down only after the lower value held this long, seconds.
    pub scale_down_delay_s: u32,
    /// The smallest non-zero scale (0 = unset).
    pub activation_scale: u32,
    /// The scale a new revision must reach before the KPA may go lower.
    pub initial_scale: u32,
    /// Whether `initial_scale` may be 0.
    pub allow_zero_initial_scale: bool,
    /// The lower bound while reachable.
    pub min_scale: u32,
    /// The upper bound (0 = none).
    pub max_scale: u32,
    /// The cluster's cap on `max_scale` (0 = none).
    pub max_scale_limit: u32,
    /// Whether the revision may scale to zero (false: 1 instead of 0).
    pub enable_scale_to_zero: bool,
    /// How long the activator must be in the path before scaling to zero, seconds.
    pub scale_to_zero_grace_period_s: f64,
    /// How long the last pod stays after the revision went inactive, seconds.
    pub scale_to_zero_pod_retention_period_s: f64,
    /// How the windows are averaged.
    pub aggregation: Aggregation,
    /// The revision's progress deadline, seconds; activation fails 30 s after it.
    pub progress_deadline_s: f64,
    /// Requests one activator serves, for the activator count.
    pub activator_capacity: f64,
    /// Whether the revision is routed (min scale, the scale-down rate and delay, the pod
    /// retention apply only then).
    pub reachable: bool,
}

impl Default for KpaSpec {
    fn default() -> Self {
        Self {
            metric: KpaMetric::Concurrency,
            container_concurrency: 0,
            target: None,
            target_utilization_percentage: None,
            container_concurrency_target_percentage: 70.0,
            container_concurrency_target_default: 100.0,
            requests_per_second_target_default: 200.0,
            rps_target_utilization_percentage: 70.0,
            target_burst_capacity: 211.0,
            stable_window_s: 60,
            panic_window_percentage: 10.0,
            panic_threshold_percentage: 200.0,
            max_scale_up_rate: 1000.0,
            max_scale_down_rate: 2.0,
            scale_down_delay_s: 0,
            activation_scale: 0,
            initial_scale: 1,
            allow_zero_initial_scale: false,
            min_scale: 0,
            max_scale: 0,
            max_scale_limit: 0,
            enable_scale_to_zero: true,
            scale_to_zero_grace_period_s: 30.0,
            scale_to_zero_pod_retention_period_s: 0.0,
            aggregation: Aggregation::Linear,
            progress_deadline_s: 600.0,
            activator_capacity: 100.0,
            reachable: true,
        }
    }
}

fn bad(field: &str, range: &str, value: impl std::fmt::Display) -> Error {
    Error::invalid_config(format!("{field} must be {range}, got {value}"))
}

fn check(ok: bool, field: &str, range: &str, value: impl std::fmt::Display) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(bad(field, range, value))
    }
}

impl KpaSpec {
    /// The concurrency utilization as a fraction: `container_concurrency_target_percentage / 100`,
    /// or the value itself when it is ≤ 1 (Knative's legacy rule).
    #[must_use]
    pub fn container_concurrency_target_fraction(&self) -> f64 {
        let v = self.container_concurrency_target_percentage;
        if v > 1.0 { v / 100.0 } else { v }
    }

    /// The per-pod target and total, `(TargetValue, TotalValue)`, as Knative resolves them:
    /// the total is `container_concurrency` (or the default) for concurrency, the rps default
    /// for rps, replaced by `target` when set (for concurrency capped at a non-zero
    /// `container_concurrency`); the target is `max(0.01, total × utilization)`.
    #[must_use]
    pub fn resolve_target(&self) -> (f64, f64) {
        let (mut total, mut utilization) = match self.metric {
            KpaMetric::Rps => (
                self.requests_per_second_target_default,
                self.rps_target_utilization_percentage / 100.0,
            ),
            KpaMetric::Concurrency => (
                if self.container_concurrency == 0 {
                    self.container_concurrency_target_default
                } else {
                    f64::from(self.container_concurrency)
                },
                self.container_concurrency_target_fraction(),
            ),
        };
        if let Some(target) = self.target {
            total = target;
            if self.metric == KpaMetric::Concurrency && self.container_concurrency != 0 {
                total = target.min(f64::from(self.container_concurrency));
            }
        }
        if let Some(percentage) = self.target_utilization_percentage {
            utilization = percentage / 100.0;
        }
        (TARGET_MIN.max(total * utilization), total)
    }

    /// The panic window in whole seconds: the stable window × `panic_window_percentage` / 100,
    /// rounded to the second (halves away from zero), at least 1 s.
    #[must_use]
    pub fn panic_window_s(&self) -> u32 {
        const NS: i64 = 1_000_000_000;
        let stable_ns = i64::from(self.stable_window_s) * NS;
        let panic_ns = (stable_ns as f64 * self.panic_window_percentage / 100.0) as i64;
        let rem = panic_ns.rem_euclid(NS);
        let rounded = if rem + rem < NS {
            panic_ns - rem
        } else {
            panic_ns + (NS - rem)
        };
        (rounded / NS).clamp(1, i64::from(MAX_WINDOW_S)) as u32
    }

    /// Checks every value against Knative's range for it.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the first invalid field, its value and the
    /// valid range.
    pub fn validate(&self) -> Result<()> {
        let max_i32 = i32::MAX as u32;
        check(
            self.container_concurrency <= max_i32,
            "container_concurrency",
            "in [0, 2147483647]",
            self.container_concurrency,
        )?;
        if let Some(t) = self.target {
            check(t.is_finite() && t >= TARGET_MIN, "target", ">= 0.01", t)?;
        }
        if let Some(p) = self.target_utilization_percentage {
            check(
                (1.0..=100.0).contains(&p),
                "target_utilization_percentage",
                "in [1, 100]",
                p,
            )?;
        }
        let cc = self.container_concurrency_target_percentage;
        check(
            cc > 0.0 && cc <= 100.0,
            "container_concurrency_target_percentage",
            "in (0, 100]",
            cc,
        )?;
        let ccd = self.container_concurrency_target_default;
        check(
            ccd.is_finite() && self.container_concurrency_target_fraction() * ccd >= TARGET_MIN,
            "container_concurrency_target_default",
            "finite and give a target (× container_concurrency_target_percentage) >= 0.01",
            ccd,
        )?;
        let rps = self.requests_per_second_target_default;
        check(
            rps.is_finite() && rps >= TARGET_MIN,
            "requests_per_second_target_default",
            ">= 0.01",
            rps,
        )?;
        let rtu = self.rps_target_utilization_percentage;
        check(
            rtu > 0.0 && rtu <= 100.0,
            "rps_target_utilization_percentage",
            "in (0, 100]",
            rtu,
        )?;
        let tbc = self.target_burst_capacity;
        check(
            tbc.is_finite() && (tbc >= 0.0 || tbc == -1.0),
            "target_burst_capacity",
            ">= 0 or exactly -1",
            tbc,
        )?;
        check(
            (6..=MAX_WINDOW_S).contains(&self.stable_window_s),
            "stable_window_s",
            "in [6, 3600]",
            self.stable_window_s,
        )?;
        let pwp = self.panic_window_percentage;
        check(
            (1.0..=100.0).contains(&pwp),
            "panic_window_percentage",
            "in [1, 100]",
            pwp,
        )?;
        let ptp = self.panic_threshold_percentage;
        check(
            ptp.is_finite() && ptp > 0.0,
            "panic_threshold_percentage",
            "finite and > 0",
            ptp,
        )?;
        for (field, rate) in [
            ("max_scale_up_rate", self.max_scale_up_rate),
            ("max_scale_down_rate", self.max_scale_down_rate),
        ] {
            check(
                rate.is_finite() && rate > 1.0,
                field,
                "finite and > 1",
                rate,
            )?;
        }
        check(
            self.scale_down_delay_s <= MAX_WINDOW_S,
            "scale_down_delay_s",
            "in [0, 3600]",
            self.scale_down_delay_s,
        )?;
        for (field, v) in [
            ("initial_scale", self.initial_scale),
            ("min_scale", self.min_scale),
            ("max_scale", self.max_scale),
            ("max_scale_limit", self.max_scale_limit),
            ("activation_scale", self.activation_scale),
        ] {
            check(v <= max_i32, field, "in [0, 2147483647]", v)?;
        }
        if self.initial_scale == 0 && !self.allow_zero_initial_scale {
            return Err(bad(
                "initial_scale",
                ">= 1 unless allow_zero_initial_scale is true",
                0,
            ));
        }
        if self.max_scale_limit > 0 {
            check(
                (1..=self.max_scale_limit).contains(&self.max_scale),
                "max_scale",
                &format!("in [1, max_scale_limit ({})]", self.max_scale_limit),
                self.max_scale,
            )?;
        }
        if self.max_scale > 0 {
            check(
                self.min_scale <= self.max_scale,
                "min_scale",
                &format!("<= max_scale ({})", self.max_scale),
                self.min_scale,
            )?;
        }
        let act = self.activation_scale;
        if act > 0 {
            check(act >= 2, "activation_scale", "0 (unset) or >= 2", act)?;
            check(
                act >= self.min_scale,
                "activation_scale",
                &format!(">= min_scale ({})", self.min_scale),
                act,
            )?;
            if self.max_scale > 0 {
                check(
                    act <= self.max_scale,
                    "activation_scale",
                    &format!("<= max_scale ({})", self.max_scale),
                    act,
                )?;
            }
        }
        let grace = self.scale_to_zero_grace_period_s;
        check(
            grace.is_finite() && grace > 0.0,
            "scale_to_zero_grace_period_s",
            "finite and > 0",
            grace,
        )?;
        let retention = self.scale_to_zero_pod_retention_period_s;
        check(
            retention.is_finite() && retention >= 0.0,
            "scale_to_zero_pod_retention_period_s",
            "finite and >= 0",
            retention,
        )?;
        let deadline = self.progress_deadline_s;
        check(
            deadline.is_finite() && deadline > 0.0,
            "progress_deadline_s",
            "finite and > 0",
            deadline,
        )?;
        let cap = self.activator_capacity;
        check(
            cap.is_finite() && cap >= 1.0,
            "activator_capacity",
            "finite and >= 1",
            cap,
        )?;
        Ok(())
    }

    /// The spec from a `config-autoscaler` ConfigMap's `data` (Knative's keys, kebab-case);
    /// absent keys keep their defaults, unknown keys are ignored as Knative ignores them.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use replicast::kpa::KpaSpec;
    /// let data = BTreeMap::from([
    ///     ("stable-window".to_string(), "2m".to_string()),
    ///     ("container-concurrency-target-percentage".to_string(), "80".to_string()),
    /// ]);
    /// let spec = KpaSpec::from_config_map(&data).unwrap();
    /// assert_eq!(spec.stable_window_s, 120);
    /// assert_eq!(spec.resolve_target(), (80.0, 100.0));
    /// ```
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the key and value that do not parse or are
    /// out of range.
    pub fn from_config_map(data: &BTreeMap<String, String>) -> Result<Self> {
        let mut spec = Self::default();
        let get = |key: &'static str| lookup(data, key);
        for (key, field) in [
            ("enable-scale-to-zero", &mut spec.enable_scale_to_zero),
            (
                "allow-zero-initial-scale",
                &mut spec.allow_zero_initial_scale,
            ),
        ] {
            if let Some((k, v)) = get(key) {
                *field = parse_bool(k, v)?;
            }
        }
        for (key, field) in [
            ("max-scale-up-rate", &mut spec.max_scale_up_rate),
            ("max-scale-down-rate", &mut spec.max_scale_down_rate),
            (
                "container-concurrency-target-percentage",
                &mut spec.container_concurrency_target_percentage,
            ),
            (
                "container-concurrency-target-default",
                &mut spec.container_concurrency_target_default,
            ),
            (
                "requests-per-second-target-default",
                &mut spec.requests_per_second_target_default,
            ),
            ("target-burst-capacity", &mut spec.target_burst_capacity),
            ("panic-window-percentage", &mut spec.panic_window_percentage),
            ("activator-capacity", &mut spec.activator_capacity),
            (
                "panic-threshold-percentage",
                &mut spec.panic_threshold_percentage,
            ),
        ] {
            if let Some((k, v)) = get(key) {
                *field = parse_float(k, v)?;
            }
        }
        for (key, field) in [
            ("initial-scale", &mut spec.initial_scale),
            ("min-scale", &mut spec.min_scale),
            ("max-scale", &mut spec.max_scale),
            ("max-scale-limit", &mut spec.max_scale_limit),
        ] {
            if let Some((k, v)) = get(key) {
                *field = parse_count(k, v)?;
            }
        }
        if let Some((k, v)) = get("stable-window") {
            spec.stable_window_s = parse_whole_seconds(k, v, 6, MAX_WINDOW_S)?;
        }
        if let Some((k, v)) = get("scale-down-delay") {
            spec.scale_down_delay_s = parse_whole_seconds(k, v, 0, MAX_WINDOW_S)?;
        }
        if let Some((k, v)) = get("scale-to-zero-grace-period") {
            spec.scale_to_zero_grace_period_s = parse_seconds(k, v)?;
        }
        if let Some((k, v)) = get("scale-to-zero-pod-retention-period") {
            spec.scale_to_zero_pod_retention_period_s = parse_seconds(k, v)?;
        }
        spec.validate()?;
        Ok(spec)
    }

    /// `cluster` with a Knative revision's annotations applied, validated as Knative's webhook
    /// validates them: `autoscaling.knative.dev/{class, metric, metric-aggregation-algorithm,
    /// target, target-utilization-percentage, target-burst-capacity, window,
    /// panic-window-percentage, panic-threshold-percentage, scale-down-delay,
    /// scale-to-zero-pod-retention-period, min-scale, max-scale, initial-scale,
    /// activation-scale}` (and their legacy camelCase forms) and
    /// `serving.knative.dev/progress-deadline`. Other annotations are ignored.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use replicast::kpa::KpaSpec;
    /// let annotations = BTreeMap::from([
    ///     ("autoscaling.knative.dev/target".to_string(), "10".to_string()),
    ///     ("autoscaling.knative.dev/window".to_string(), "2m".to_string()),
    ///     ("autoscaling.knative.dev/min-scale".to_string(), "1".to_string()),
    /// ]);
    /// let spec = KpaSpec::from_annotations(&annotations, &KpaSpec::default()).unwrap();
    /// assert_eq!((spec.stable_window_s, spec.min_scale), (120, 1));
    /// assert_eq!(spec.resolve_target(), (7.0, 10.0));
    /// ```
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the annotation, its value and the valid
    /// range, or when `class` names another autoscaler.
    pub fn from_annotations(
        annotations: &BTreeMap<String, String>,
        cluster: &KpaSpec,
    ) -> Result<Self> {
        const GROUP: &str = "autoscaling.knative.dev/";
        const KPA_CLASS: &str = "kpa.autoscaling.knative.dev";
        let get = |keys: &[&str]| -> Option<(String, &str)> {
            keys.iter().find_map(|key| {
                let full = format!("{GROUP}{key}");
                annotations.get(&full).map(|v| (full, v.as_str()))
            })
        };
        let mut spec = cluster.clone();
        if let Some((k, v)) = get(&["class"])
            && v != KPA_CLASS
        {
            return Err(bad(&k, &format!("{KPA_CLASS} for a kpa"), format!("{v:?}")));
        }
        if let Some((k, v)) = get(&["metric"]) {
            spec.metric = match v {
                "concurrency" => KpaMetric::Concurrency,
                "rps" => KpaMetric::Rps,
                _ => return Err(bad(&k, "concurrency or rps", format!("{v:?}"))),
            };
        }
        if let Some((k, v)) = get(&["metric-aggregation-algorithm", "metricAggregationAlgorithm"]) {
            spec.aggregation = match v {
                "linear" => Aggregation::Linear,
                "weighted-exponential" | "weightedExponential" => Aggregation::WeightedExponential,
                _ => {
                    return Err(bad(
                        &k,
                        "linear, weighted-exponential or weightedExponential",
                        format!("{v:?}"),
                    ));
                }
            };
        }
        if let Some((k, v)) = get(&["target"]) {
            let t = parse_float(&k, v)?;
            check(t >= TARGET_MIN, &k, ">= 0.01", v)?;
            spec.target = Some(t);
        }
        if let Some((k, v)) = get(&[
            "target-utilization-percentage",
            "targetUtilizationPercentage",
        ]) {
            let p = parse_float(&k, v)?;
            check((1.0..=100.0).contains(&p), &k, "in [1, 100]", v)?;
            spec.target_utilization_percentage = Some(p);
        }
        if let Some((k, v)) = get(&["target-burst-capacity", "targetBurstCapacity"]) {
            let tbc = parse_float(&k, v)?;
            check(tbc >= 0.0 || tbc == -1.0, &k, ">= 0 or exactly -1", v)?;
            spec.target_burst_capacity = tbc;
        }
        if let Some((k, v)) = get(&["window"]) {
            spec.stable_window_s = parse_whole_seconds(&k, v, 6, MAX_WINDOW_S)?;
        }
        if let Some((k, v)) = get(&["panic-window-percentage", "panicWindowPercentage"]) {
            let p = parse_float(&k, v)?;
            check((1.0..=100.0).contains(&p), &k, "in [1, 100]", v)?;
            spec.panic_window_percentage = p;
        }
        if let Some((k, v)) = get(&["panic-threshold-percentage", "panicThresholdPercentage"]) {
            let p = parse_float(&k, v)?;
            check((110.0..=1000.0).contains(&p), &k, "in [110, 1000]", v)?;
            spec.panic_threshold_percentage = p;
        }
        if let Some((k, v)) = get(&["scale-down-delay", "scaleDownDelay"]) {
            spec.scale_down_delay_s = parse_whole_seconds(&k, v, 0, MAX_WINDOW_S)?;
        }
        if let Some((k, v)) = get(&[
            "scale-to-zero-pod-retention-period",
            "scaleToZeroPodRetentionPeriod",
        ]) {
            let s = parse_seconds(&k, v)?;
            check(
                (0.0..=f64::from(MAX_WINDOW_S)).contains(&s),
                &k,
                "a duration in [0s, 1h]",
                format!("{v:?}"),
            )?;
            spec.scale_to_zero_pod_retention_period_s = s;
        }
        let min = get(&["min-scale", "minScale"])
            .map(|(k, v)| parse_count(&k, v))
            .transpose()?;
        let max = get(&["max-scale", "maxScale"])
            .map(|(k, v)| parse_count(&k, v))
            .transpose()?;
        let (min_a, max_a) = (min.unwrap_or(0), max.unwrap_or(0));
        if max_a != 0 && max_a < min_a {
            return Err(bad(
                &format!("{GROUP}max-scale"),
                &format!(">= {GROUP}min-scale ({min_a}) or 0"),
                max_a,
            ));
        }
        if max.is_some() && spec.max_scale_limit > 0 {
            check(
                (1..=spec.max_scale_limit).contains(&max_a),
                &format!("{GROUP}max-scale"),
                &format!("in [1, max_scale_limit ({})]", spec.max_scale_limit),
                max_a,
            )?;
        }
        if let Some(min) = min {
            spec.min_scale = min;
        }
        if let Some(max) = max {
            spec.max_scale = max;
        }
        if let Some((k, v)) = get(&["activation-scale"]) {
            let act: i32 = v
                .parse()
                .map_err(|_| bad(&k, "an integer", format!("{v:?}")))?;
            check(
                i64::from(act) >= i64::from(min_a),
                &k,
                &format!(">= {GROUP}min-scale ({min_a})"),
                act,
            )?;
            if max_a != 0 {
                check(
                    i64::from(act) <= i64::from(max_a),
                    &k,
                    &format!("<= {GROUP}max-scale ({max_a})"),
                    act,
                )?;
            }
            check(act >= 2, &k, ">= 2", act)?;
            spec.activation_scale = act as u32;
        }
        if let Some((k, v)) = get(&["initial-scale", "initialScale"]) {
            let initial = parse_count(&k, v)?;
            if initial == 0 && !cluster.allow_zero_initial_scale {
                return Err(bad(
                    &k,
                    ">= 1 (allow-zero-initial-scale is false)",
                    format!("{v:?}"),
                ));
            }
            spec.initial_scale = initial;
        }
        let deadline_key = "serving.knative.dev/progress-deadline";
        if let Some(v) = annotations.get(deadline_key) {
            let s = parse_seconds(deadline_key, v)?;
            check(s > 0.0, deadline_key, "a duration > 0s", format!("{v:?}"))?;
            spec.progress_deadline_s = s;
        }
        spec.validate()?;
        Ok(spec)
    }
}

fn lookup<'a>(
    data: &'a BTreeMap<String, String>,
    key: &'static str,
) -> Option<(&'static str, &'a str)> {
    data.get(key).map(|v| (key, v.as_str()))
}

fn parse_bool(key: &str, v: &str) -> Result<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(bad(key, "a boolean (true or false)", format!("{v:?}"))),
    }
}

fn parse_float(key: &str, v: &str) -> Result<f64> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(bad(key, "a finite number", format!("{v:?}"))),
    }
}

fn parse_count(key: &str, v: &str) -> Result<u32> {
    match v.parse::<i32>() {
        Ok(x) if x >= 0 => Ok(x as u32),
        _ => Err(bad(key, "an integer in [0, 2147483647]", format!("{v:?}"))),
    }
}

/// A Go duration as seconds.
fn parse_seconds(key: &str, v: &str) -> Result<f64> {
    let ns = parse_go_duration(v)
        .ok_or_else(|| bad(key, "a duration such as 30s or 1m30s", format!("{v:?}")))?;
    check(ns >= 0, key, "a duration >= 0s", format!("{v:?}"))?;
    Ok(ns as f64 / 1e9)
}

/// A Go duration of whole seconds within `[min_s, max_s]`.
fn parse_whole_seconds(key: &str, v: &str, min_s: u32, max_s: u32) -> Result<u32> {
    let ns = parse_go_duration(v)
        .ok_or_else(|| bad(key, "a duration such as 30s or 1m30s", format!("{v:?}")))?;
    let range = format!("a duration of whole seconds in [{min_s}s, {max_s}s]");
    let ok = ns % 1_000_000_000 == 0
        && (i64::from(min_s) * 1_000_000_000..=i64::from(max_s) * 1_000_000_000).contains(&ns);
    check(ok, key, &range, format!("{v:?}"))?;
    Ok((ns / 1_000_000_000) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_window_rounds_half_away_from_zero() {
        let spec = |w, p| KpaSpec {
            stable_window_s: w,
            panic_window_percentage: p,
            ..KpaSpec::default()
        };
        assert_eq!(spec(60, 10.0).panic_window_s(), 6);
        assert_eq!(spec(45, 10.0).panic_window_s(), 5);
        assert_eq!(spec(6, 1.0).panic_window_s(), 1);
        assert_eq!(spec(3600, 100.0).panic_window_s(), 3600);
    }

    #[test]
    fn legacy_fraction_rule() {
        let spec = KpaSpec {
            container_concurrency_target_percentage: 1.0,
            ..KpaSpec::default()
        };
        assert_eq!(spec.container_concurrency_target_fraction(), 1.0);
        assert_eq!(
            KpaSpec::default().container_concurrency_target_fraction(),
            0.7
        );
    }
}
