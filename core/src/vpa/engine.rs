//! [`Vpa`]: a validated [`VpaSpec`] that records observations into a [`VpaState`] and turns the
//! state into a [`VerticalRecommendation`].

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::capping::{self, Bounds};
use super::container::{AggregateState, MemoryConfig};
use super::decaying::DecayingHistogram;
use super::estimator::{self, ResourceEstimate};
use super::histogram::HistogramOptions;
use super::spec::{ControlledValues, Resource, Resources, ScalingMode, UpdateMode, VpaSpec};
use super::state::VpaState;
use super::updater::{self, UpdatePriority};
use crate::error::{Error, Result};

/// A validated vertical recommender for one workload: build once with [`Vpa::new`], then feed
/// a [`VpaState`] and ask for recommendations. Immutable, cheap to share.
///
/// ```
/// use replicast::vpa::{ContainerResources, Resources, Vpa, VpaSpec, VpaState};
/// let vpa = Vpa::new(VpaSpec::from_yaml(r#"
/// container_policies:
///   - container_name: app
///     min_allowed: {cpu_millicores: 1000}
/// "#).unwrap()).unwrap();
/// let mut state = VpaState::new();
/// let t0 = 1_704_067_200_000;
/// for i in 0..1440 {
///     state.add_cpu_sample(&vpa, "app", "", t0 + i * 60_000, 500).unwrap();
///     state.add_memory_sample(&vpa, "app", "", t0 + i * 60_000, 500 << 20).unwrap();
/// }
/// let current = [ContainerResources {
///     container: "app".into(),
///     requests: Resources::new(2000, 1 << 30),
///     limits: Resources::new(4000, 2 << 30),
///     ..Default::default()
/// }];
/// let rec = vpa.recommend(&state, t0 + 86_400_000, &current).unwrap();
/// let app = &rec.containers[0];
/// assert_eq!(app.uncapped_target.cpu_millicores, Some(587));
/// assert_eq!(app.target.cpu_millicores, Some(1000)); // minAllowed
/// assert_eq!(app.limits.cpu_millicores, Some(2000)); // limit:request ratio 2 kept
/// assert!(app.reasons.iter().any(|r| r.contains("minAllowed")));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Vpa {
    spec: VpaSpec,
    cpu_options: HistogramOptions,
    memory_options: HistogramOptions,
    cpu_half_life_ms: i64,
    memory_half_life_ms: i64,
}

/// A pod container's current resources, as the pod spec has them.
///
/// | field | unit | meaning |
/// | --- | --- | --- |
/// | `container` | | container name |
/// | `requests`, `limits` | m / B | current requests and limits (unset = none) |
/// | `default_limits` | m / B | the namespace LimitRange's default limit, used when the container has none |
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerResources {
    /// Container name.
    pub container: String,
    /// Current requests.
    #[serde(default)]
    pub requests: Resources,
    /// Current limits.
    #[serde(default)]
    pub limits: Resources,
    /// LimitRange default limits.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub default_limits: Resources,
}

/// The recommendation for one container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerRecommendation {
    /// Container name.
    pub container: String,
    /// Recommended requests (the VPA status `target`).
    pub target: Resources,
    /// Lower bound (status `lowerBound`).
    pub lower_bound: Resources,
    /// Upper bound (status `upperBound`).
    pub upper_bound: Resources,
    /// Target before `minAllowed` / `maxAllowed` capping (status `uncappedTarget`).
    pub uncapped_target: Resources,
    /// Requests to set on the pod: the target after the admission controller's capping
    /// (`RequestsOnly`: capped to the current limits).
    pub requests: Resources,
    /// Limits to set (`RequestsAndLimits`: scaled to keep the limit:request ratio); unset
    /// resources keep their current limit (`RequestsOnly`, or no limit to scale).
    pub limits: Resources,
    /// Confidence of the CPU bounds, in days of history (spec §8.3).
    pub cpu_confidence: f64,
    /// Confidence of the memory bounds, in days of history.
    pub memory_confidence: f64,
    /// How each value was reached, in words.
    pub reasons: Vec<String>,
    /// Upstream's annotations for this container (`"cpu capped to minAllowed"`,
    /// `"memory capped to container limit"`, limit notes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<String>,
}

/// The recommendation for a workload: one entry per autoscaled container (sorted by name)
/// and, when current resources were given, the updater's priority for the pod.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerticalRecommendation {
    /// Per container, sorted by name.
    pub containers: Vec<ContainerRecommendation>,
    /// The updater's view of the pod whose resources were given (`None` without them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdatePriority>,
}

impl VerticalRecommendation {
    /// The recommendation of `container`.
    #[must_use]
    pub fn container(&self, container: &str) -> Option<&ContainerRecommendation> {
        self.containers.iter().find(|c| c.container == container)
    }
}

fn seconds_to_ms(s: u32) -> i64 {
    i64::from(s) * 1000
}

impl Vpa {
    /// Validates `spec` once.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] as [`VpaSpec::validate`].
    pub fn new(spec: VpaSpec) -> Result<Self> {
        spec.validate()?;
        let r = &spec.recommender;
        Ok(Self {
            cpu_options: HistogramOptions::new(r.cpu_histogram)?,
            memory_options: HistogramOptions::new(r.memory_histogram)?,
            cpu_half_life_ms: seconds_to_ms(r.cpu_histogram_decay_half_life_s),
            memory_half_life_ms: seconds_to_ms(r.memory_histogram_decay_half_life_s),
            spec,
        })
    }

    /// The spec.
    #[must_use]
    pub fn spec(&self) -> &VpaSpec {
        &self.spec
    }

    /// An empty aggregate with this recommender's histograms.
    #[must_use]
    pub fn new_aggregate(&self, creation_ms: i64) -> AggregateState {
        AggregateState::new(
            DecayingHistogram::new_clamped(self.cpu_options, self.cpu_half_life_ms),
            DecayingHistogram::new_clamped(self.memory_options, self.memory_half_life_ms),
            creation_ms,
        )
    }

    /// Checks that `aggregate` was built with this recommender's histogram scheme.
    pub(crate) fn check_aggregate(
        &self,
        container: &str,
        aggregate: &AggregateState,
    ) -> Result<()> {
        let ok = aggregate.cpu.histogram().options() == &self.cpu_options
            && aggregate.memory.histogram().options() == &self.memory_options
            && aggregate.cpu.half_life_ms() == self.cpu_half_life_ms
            && aggregate.memory.half_life_ms() == self.memory_half_life_ms;
        if ok {
            Ok(())
        } else {
            Err(Error::invalid_input(format!(
                "the state of container {container:?} was built with other histogram options or half-lives than this spec; carry it over through checkpoints"
            )))
        }
    }

    /// The memory / OOM settings in force for `container` (policy overrides applied).
    pub(crate) fn memory_config(&self, container: &str) -> MemoryConfig {
        let r = &self.spec.recommender;
        let policy = self.spec.policy_for(container);
        MemoryConfig {
            interval_ms: seconds_to_ms(
                policy
                    .and_then(|p| p.memory_aggregation_interval_s)
                    .unwrap_or(r.memory_aggregation_interval_s),
            ),
            interval_count: i64::from(
                policy
                    .and_then(|p| p.memory_aggregation_interval_count)
                    .unwrap_or(r.memory_aggregation_interval_count),
            ),
            oom_bump_up_ratio: policy
                .and_then(|p| p.oom_bump_up_ratio)
                .unwrap_or(r.oom_bump_up_ratio),
            oom_min_bump_up_bytes: policy
                .and_then(|p| p.oom_min_bump_up_bytes)
                .unwrap_or(r.oom_min_bump_up_bytes),
        }
    }

    /// The recommendation at `now_ms` (spec §8–§9): for every container of the state that is
    /// autoscaled (policy mode not `Off`) and not expired at `now_ms` (no CPU sample for a
    /// whole memory aggregation window — upstream's GC would have dropped it), the estimator
    /// chain, output rounding, integer-CPU, `minAllowed`/`maxAllowed` capping; then, for the
    /// containers listed in `current`, the admission controller's processing (`RequestsOnly`
    /// capping to limits, proportional limits) and the updater's priority for that pod.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when `current` has a negative amount or a container
    /// twice, or the state was built with another histogram scheme.
    pub fn recommend(
        &self,
        state: &VpaState,
        now_ms: i64,
        current: &[ContainerResources],
    ) -> Result<VerticalRecommendation> {
        for (i, c) in current.iter().enumerate() {
            for (what, r) in [
                ("requests", &c.requests),
                ("limits", &c.limits),
                ("default_limits", &c.default_limits),
            ] {
                for res in Resource::ALL {
                    if let Some(v) = r.get(res)
                        && v < 0
                    {
                        return Err(Error::invalid_input(format!(
                            "current[{i}].{what}.{} must be >= 0, got {v}",
                            match res {
                                Resource::Cpu => "cpu_millicores",
                                Resource::Memory => "memory_bytes",
                            }
                        )));
                    }
                }
            }
            if current[..i].iter().any(|d| d.container == c.container) {
                return Err(Error::invalid_input(format!(
                    "current lists container {:?} twice",
                    c.container
                )));
            }
        }
        let config = &self.spec.recommender;
        let mut live = Vec::with_capacity(state.containers().len());
        for (name, c) in state.containers() {
            self.check_aggregate(name, &c.aggregate)?;
            let policy = self.spec.policy_for(name);
            if policy.is_some_and(|p| p.mode == ScalingMode::Off) {
                continue;
            }
            let window = self.memory_config(name).window_ms();
            if c.aggregate.is_expired(now_ms, window) {
                continue;
            }
            live.push((name, c));
        }
        let minimum = estimator::per_container_minimum(config, live.len());
        let mut out = VerticalRecommendation {
            containers: Vec::with_capacity(live.len()),
            update: None,
        };
        let mut pod = Vec::new();
        for (name, c) in live {
            let policy = self.spec.policy_for(name);
            let mut reasons = Vec::new();
            let mut raw = Bounds::default();
            let mut confidences = [0.0; 2];
            for (i, res) in Resource::ALL.into_iter().enumerate() {
                let min = minimum.get(res).unwrap_or(0);
                let e = estimator::estimate(config, &c.aggregate, res, min);
                confidences[i] = e.confidence;
                if policy.is_none_or(|p| p.controls(res)) {
                    raw.target.set(res, Some(e.bounds[0]));
                    raw.lower_bound.set(res, Some(e.bounds[1]));
                    raw.upper_bound.set(res, Some(e.bounds[2]));
                    reasons.push(describe(res, &e, config));
                } else {
                    reasons.push(format!(
                        "{}: not controlled (controlled_resources)",
                        res.as_str()
                    ));
                }
            }
            // MapToListOfRecommendedContainerResources: rounding flags, uncappedTarget = target
            for r in [&mut raw.target, &mut raw.lower_bound, &mut raw.upper_bound] {
                if let Some(v) = r.cpu_millicores {
                    r.cpu_millicores =
                        Some(capping::round_up_to_scale(v, config.round_cpu_millicores));
                }
                if let Some(v) = r.memory_bytes {
                    r.memory_bytes = Some(capping::round_up_to_scale(v, config.round_memory_bytes));
                }
            }
            raw.uncapped_target = raw.target;
            let mut bounds = raw;
            if config.integer_cpu_containers.iter().any(|n| n == name) {
                capping::apply_integer_cpu(&mut bounds);
                reasons
                    .push("cpu: rounded up to whole cores (integer-CPU post-processor)".to_owned());
            }
            let notes = capping::apply_vpa_policy(&mut bounds, policy, &config.global_max_allowed);
            for n in &notes {
                let value = if n.starts_with("cpu") {
                    bounds.target.cpu_millicores.map(|v| format!("{v}m"))
                } else {
                    bounds.target.memory_bytes.map(|v| format!("{v} B"))
                };
                reasons.push(format!("{n} ({})", value.unwrap_or_default()));
            }
            let mut rec = ContainerRecommendation {
                container: name.clone(),
                target: bounds.target,
                lower_bound: bounds.lower_bound,
                upper_bound: bounds.upper_bound,
                uncapped_target: bounds.uncapped_target,
                requests: bounds.target,
                limits: Resources::default(),
                cpu_confidence: confidences[0],
                memory_confidence: confidences[1],
                reasons,
                annotations: Vec::new(),
            };
            if let Some(cur) = current.iter().find(|c| &c.container == name) {
                let processed = self.admission(&bounds, name, cur, &mut rec);
                pod.push((cur.requests, processed));
            }
            out.containers.push(rec);
        }
        if !current.is_empty() {
            out.update = Some(updater::update_priority(&pod));
        }
        Ok(out)
    }

    /// The admission controller's processing of one container's recommendation against its
    /// current resources; fills `requests`, `limits` and the annotations of `rec`, returns the
    /// processed bounds the updater compares with.
    fn admission(
        &self,
        bounds: &Bounds,
        name: &str,
        cur: &ContainerResources,
        rec: &mut ContainerRecommendation,
    ) -> Bounds {
        let policy = self.spec.policy_for(name);
        let mut processed = *bounds;
        let mut annotations =
            capping::apply_vpa_policy(&mut processed, policy, &Resources::default());
        let controlled_values = policy.map(|p| p.controlled_values).unwrap_or_default();
        if controlled_values == ControlledValues::RequestsOnly {
            let notes = capping::cap_to_limits(&mut processed.target, &cur.limits);
            capping::cap_to_limits(&mut processed.lower_bound, &cur.limits);
            capping::cap_to_limits(&mut processed.upper_bound, &cur.limits);
            for n in &notes {
                rec.reasons.push(n.clone());
            }
            annotations.extend(notes);
        }
        rec.requests = processed.target;
        // GetContainersResources reads controlledValues only when updateMode is not Off
        let limit_values = if self.spec.update_mode == UpdateMode::Off {
            ControlledValues::RequestsAndLimits
        } else {
            controlled_values
        };
        if limit_values == ControlledValues::RequestsAndLimits {
            let mut limits = Resources::default();
            let mut limit_notes = Vec::new();
            for res in Resource::ALL {
                let p = capping::proportional_limit(
                    res,
                    cur.limits.get(res),
                    cur.requests.get(res),
                    processed.target.get(res),
                    cur.default_limits.get(res),
                );
                limits.set(res, p.limit);
                if let Some(a) = p.annotation {
                    limit_notes.push(a);
                }
            }
            if !limits.is_empty() {
                rec.limits = limits;
                annotations.extend(limit_notes);
            }
        }
        rec.annotations = annotations;
        processed
    }
}

/// A fraction as a percentage, formatted cheaply when it is a whole one (`0.9` → `90`).
fn percent(out: &mut String, fraction: f64) {
    let p = fraction * 100.0;
    if p.fract().abs() < 1e-9 && p.abs() < 1e9 {
        let _ = write!(out, "{}", p.round() as i64);
    } else {
        let _ = write!(out, "{p}");
    }
}

/// One line explaining a resource's three bounds (integers mostly: it is on the hot path).
fn describe(
    res: Resource,
    e: &ResourceEstimate,
    config: &super::spec::RecommenderConfig,
) -> String {
    let (pcts, unit) = match res {
        Resource::Cpu => (
            [
                config.target_cpu_percentile,
                config.lower_bound_cpu_percentile,
                config.upper_bound_cpu_percentile,
            ],
            "m",
        ),
        Resource::Memory => (
            [
                config.target_memory_percentile,
                config.lower_bound_memory_percentile,
                config.upper_bound_memory_percentile,
            ],
            " B",
        ),
    };
    let mut s = String::with_capacity(192);
    s.push_str(res.as_str());
    s.push_str(": target p");
    percent(&mut s, pcts[0]);
    let _ = write!(s, " = {}{unit} (bucket upper edge), +", e.amounts[0]);
    percent(&mut s, config.safety_margin_fraction);
    let _ = write!(s, "% margin → {}{unit}; lower p", e.with_margin[0]);
    percent(&mut s, pcts[1]);
    let _ = write!(
        s,
        " → {}{unit} × confidence → {}{unit}; upper p",
        e.with_margin[1], e.with_confidence[1]
    );
    percent(&mut s, pcts[2]);
    let _ = write!(
        s,
        " → {}{unit} × confidence → {}{unit} (confidence {:.3} days of history)",
        e.with_margin[2], e.with_confidence[2], e.confidence
    );
    if e.bounds != e.with_confidence {
        let _ = write!(
            s,
            "; raised to the per-container minimum {}{unit}",
            e.minimum
        );
    }
    s
}
