//! Horizontal and vertical together: the VPA's recommendation, the requests to apply after
//! coordinating with the horizontal sources, and the horizontal inputs recomputed against them.
//!
//! When the HPA scales on a resource's **utilization** (usage ÷ request) and the VPA sizes the
//! same resource's request, the request is a free parameter: the HPA holds per-pod usage at its
//! target × the request, whatever the request is, so the usage the VPA sees scales with the
//! request it sets, and any rule that sizes the request from that usage moves it by a constant
//! factor each round (about `(1 + margin) × target × p95/mean`, not 1): the request drifts and
//! the replicas follow, the fight users report (`specs/user-asks.md` #13). So, per resource the
//! HPA scales on by utilization ("coupled"):
//!
//! - the request moves only to stay within the container policy's `min_allowed` /
//!   `max_allowed` (fixed bounds: no drift); inside them the HPA owns the resource and the
//!   VPA's recommendation for it is reported, not applied;
//! - when it moves, the HPA's utilization for that resource is **recomputed against the new
//!   request** in the same decision (`usage ÷ new request`), so the replica count and the pod
//!   size that come out of one call agree: the HPA does not scale in after the resize only to
//!   scale out again.
//!
//! Resources the HPA does not scale on by utilization (memory beside a CPU HPA, anything beside
//! a queue-depth or rps HPA) follow the VPA's recommendation as the VPA itself would apply it.
//! With `update_mode: off` or `initial` nothing is applied to running pods; the recommendation
//! is reported.

use serde::{Deserialize, Serialize};

use crate::decision::DecisionInput;
use crate::source::hpa::{MetricInput, MetricSpec, TargetType};
use crate::vpa::{
    ContainerResources, Resource, Resources, UpdateMode, VerticalRecommendation, VpaSpec,
};

/// The vertical half of a decision.
///
/// `apply` lists, per container whose resources change, the requests and limits to set now
/// (empty: keep the pods as they are). `notes` says how each resource was coordinated with the
/// horizontal sources.
///
/// ```
/// use replicast::VerticalDecision;
/// let v: VerticalDecision = serde_json::from_str(
///     r#"{"recommendation": {"containers": []}, "apply": [], "notes": []}"#,
/// ).unwrap();
/// assert!(v.apply.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerticalDecision {
    /// The VPA's recommendation (target, bounds, requests and limits per container).
    pub recommendation: VerticalRecommendation,
    /// The resources to set now, per container that changes.
    #[serde(default)]
    pub apply: Vec<ContainerResources>,
    /// How each resource was coordinated, in words.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The resources an HPA metric list scales on by utilization, with the container for
/// ContainerResource metrics (`None`: the whole pod).
fn coupled(metrics: &[MetricSpec]) -> Vec<(Resource, Option<&str>)> {
    let mut out = Vec::new();
    for m in metrics {
        let (resource, container, target) = match m {
            MetricSpec::Resource { resource, target } => (resource.as_str(), None, target),
            MetricSpec::ContainerResource {
                resource,
                container,
                target,
            } => (resource.as_str(), Some(container.as_str()), target),
            _ => continue,
        };
        if target.kind != TargetType::Utilization {
            continue;
        }
        let resource = match resource {
            "cpu" => Resource::Cpu,
            "memory" => Resource::Memory,
            _ => continue,
        };
        out.push((resource, container));
    }
    out
}

fn is_coupled(coupled: &[(Resource, Option<&str>)], res: Resource, container: &str) -> bool {
    coupled
        .iter()
        .any(|(r, c)| *r == res && c.is_none_or(|c| c == container))
}

fn amount(res: Resource, v: i64) -> String {
    match res {
        Resource::Cpu => format!("{v}m"),
        Resource::Memory => format!("{v} B"),
    }
}

/// The requests to apply, after coordination with the HPA's utilization metrics.
pub(super) fn coordinate(
    recommendation: VerticalRecommendation,
    spec: &VpaSpec,
    current: &[ContainerResources],
    metrics: &[MetricSpec],
) -> VerticalDecision {
    let mode = spec.update_mode;
    let mut decision = VerticalDecision {
        recommendation,
        apply: Vec::new(),
        notes: Vec::new(),
    };
    if matches!(mode, UpdateMode::Off | UpdateMode::Initial) {
        decision.notes.push(format!(
            "update_mode {}: the recommendation is not applied to running pods",
            if mode == UpdateMode::Off {
                "off"
            } else {
                "initial"
            }
        ));
        return decision;
    }
    if current.is_empty() {
        decision.notes.push(
            "no container_resources given: nothing to compare the recommendation with".to_owned(),
        );
        return decision;
    }
    let coupled = coupled(metrics);
    for rec in &decision.recommendation.containers {
        let Some(now) = current.iter().find(|c| c.container == rec.container) else {
            continue;
        };
        let mut requests = now.requests;
        let mut limits = now.limits;
        for res in Resource::ALL {
            let Some(wanted) = rec.requests.get(res) else {
                continue;
            };
            let have = now.requests.get(res);
            if have == Some(wanted) {
                continue;
            }
            if is_coupled(&coupled, res, &rec.container)
                && let Some(have) = have
            {
                let policy = spec.policy_for(&rec.container);
                let lower = policy.and_then(|p| p.min_allowed.get(res)).unwrap_or(0);
                let upper = policy
                    .and_then(|p| p.max_allowed.get(res))
                    .unwrap_or(i64::MAX)
                    .max(lower);
                let bounded = have.clamp(lower, upper);
                if bounded == have {
                    decision.notes.push(format!(
                        "{} {}: kept at {} (the VPA recommends {}): the HPA scales on {} utilization, so the request only trades pod size for replicas; it moves only to stay within min_allowed / max_allowed",
                        rec.container,
                        res.as_str(),
                        amount(res, have),
                        amount(res, wanted),
                        res.as_str()
                    ));
                    continue;
                }
                let (side, bound) = if bounded > have {
                    ("below", "min_allowed")
                } else {
                    ("above", "max_allowed")
                };
                decision.notes.push(format!(
                    "{} {}: {} is {side} {bound} {}: moved to it, and the HPA's {} utilization recomputed against it",
                    rec.container,
                    res.as_str(),
                    amount(res, have),
                    amount(res, bounded),
                    res.as_str()
                ));
                requests.set(res, Some(bounded));
                // the limit keeps its ratio to the request, as the VPA's admission keeps it
                if let Some(limit) = now.limits.get(res)
                    && have > 0
                {
                    let scaled = i128::from(limit) * i128::from(bounded) / i128::from(have);
                    limits.set(res, Some(i64::try_from(scaled).unwrap_or(i64::MAX)));
                }
                continue;
            }
            decision.notes.push(format!(
                "{} {}: {} -> {}",
                rec.container,
                res.as_str(),
                have.map_or_else(|| "unset".to_owned(), |h| amount(res, h)),
                amount(res, wanted)
            ));
            requests.set(res, Some(wanted));
            if let Some(limit) = rec.limits.get(res) {
                limits.set(res, Some(limit));
            }
        }
        if requests != now.requests || limits != now.limits {
            decision.apply.push(ContainerResources {
                container: rec.container.clone(),
                requests,
                limits,
                default_limits: Resources::default(),
            });
        }
    }
    decision
}

/// The decision input with the HPA's utilization inputs recomputed against the requests in
/// `apply` (`None` when no utilization metric's requests change). `metrics` is the metric of
/// each entry of `input.metrics`, position for position.
pub(super) fn recompute(
    input: &DecisionInput,
    metrics: &[MetricSpec],
    apply: &[ContainerResources],
) -> Option<DecisionInput> {
    let current = input.container_resources.as_slice();
    let total = |list: &[ContainerResources], res: Resource, container: Option<&str>| -> i64 {
        current
            .iter()
            .filter(|c| container.is_none_or(|n| n == c.container))
            .map(|c| {
                list.iter()
                    .find(|a| a.container == c.container)
                    .unwrap_or(c)
                    .requests
                    .get(res)
                    .unwrap_or(0)
            })
            .sum()
    };
    let mut changed = false;
    let mut inputs = input.metrics.clone();
    for (i, (res, container)) in coupled_positions(metrics) {
        let old = total(current, res, container);
        let new = total(apply, res, container);
        if old == new || old <= 0 || new <= 0 {
            continue;
        }
        if let Some(MetricInput::Aggregated { value, .. }) = inputs.get_mut(i) {
            *value = *value * old as f64 / new as f64;
            changed = true;
        }
    }
    // per-pod inputs: the pods' container requests become the new ones (milli-units: bytes ×
    // 1000 for memory), and the controller's own arithmetic does the rest
    let mut pods = input.pods.clone();
    if let Some(pods) = &mut pods {
        for pod in pods.iter_mut() {
            for c in &mut pod.containers {
                let Some(a) = apply.iter().find(|a| a.container == c.name) else {
                    continue;
                };
                for res in Resource::ALL {
                    if let Some(v) = a.requests.get(res) {
                        let milli = match res {
                            Resource::Cpu => v,
                            Resource::Memory => v.saturating_mul(1000),
                        };
                        let old = c.requests_milli.insert(res.as_str().to_owned(), milli);
                        changed |= old != Some(milli);
                    }
                }
            }
        }
    }
    if !changed {
        return None;
    }
    Some(DecisionInput {
        pods,
        metrics: inputs,
        ..input.clone()
    })
}

fn coupled_positions(metrics: &[MetricSpec]) -> Vec<(usize, (Resource, Option<&str>))> {
    metrics
        .iter()
        .enumerate()
        .filter_map(|(i, m)| coupled(std::slice::from_ref(m)).pop().map(|rc| (i, rc)))
        .collect()
}
