//! Post-processing of raw bounds (spec §9): output rounding, the integer-CPU post-processor,
//! `minAllowed` / `maxAllowed` capping (with the global maximum), `RequestsOnly` capping to the
//! container's limits, and proportional limits for `RequestsAndLimits`.

use serde::{Deserialize, Serialize};

use super::spec::{ContainerPolicy, Resource, Resources};

/// The four values of a container recommendation (VPA status `containerRecommendations[]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// The recommended request.
    pub target: Resources,
    /// Below this request the updater considers the pod under-provisioned.
    pub lower_bound: Resources,
    /// Above this request the updater considers the pod over-provisioned.
    pub upper_bound: Resources,
    /// The target before `minAllowed` / `maxAllowed` / limit capping.
    pub uncapped_target: Resources,
}

/// Upstream `RoundUpToScale`: `ceil(value / scale) × scale` computed in float64, as upstream.
#[must_use]
pub fn round_up_to_scale(value: i64, scale: u32) -> i64 {
    if scale <= 1 || value == 0 {
        return value;
    }
    let s = i64::from(scale);
    let q = (value as f64 / s as f64).ceil();
    if q >= (i64::MAX / s) as f64 {
        return i64::MAX;
    }
    (q as i64).saturating_mul(s)
}

/// The integer-CPU post-processor: CPU of target, bounds and uncapped target rounded up to
/// whole cores (`Quantity.RoundUp(0)`).
pub fn apply_integer_cpu(bounds: &mut Bounds) {
    for r in [
        &mut bounds.target,
        &mut bounds.lower_bound,
        &mut bounds.upper_bound,
        &mut bounds.uncapped_target,
    ] {
        if let Some(m) = r.cpu_millicores {
            r.cpu_millicores = Some(
                m.div_euclid(1000)
                    .saturating_add(i64::from(m.rem_euclid(1000) != 0))
                    .saturating_mul(1000),
            );
        }
    }
}

fn cap_min(value: i64, min: Option<i64>) -> (i64, bool) {
    match min {
        Some(m) if m != 0 && value < m => (m, true),
        _ => (value, false),
    }
}

fn cap_max(value: i64, max: Option<i64>) -> (i64, bool) {
    match max {
        Some(m) if m != 0 && value > m => (m, true),
        _ => (value, false),
    }
}

/// Clamps every set resource of `r` to `[min, max]` (a zero or unset bound means none),
/// returning upstream-style annotations (`"cpu capped to minAllowed"`).
pub fn cap_to_min_max(r: &mut Resources, min: &Resources, max: &Resources) -> Vec<String> {
    let mut notes = Vec::new();
    for res in Resource::ALL {
        if let Some(v) = r.get(res) {
            let (v, capped) = cap_min(v, min.get(res));
            if capped {
                notes.push(format!("{} capped to minAllowed", res.as_str()));
            }
            let (v, capped) = cap_max(v, max.get(res));
            if capped {
                notes.push(format!("{} capped to maxAllowed", res.as_str()));
            }
            r.set(res, Some(v));
        }
    }
    notes
}

/// The recommender's capping post-processor (upstream `ApplyVPAPolicy`): target, lower and
/// upper bound clamped to the policy's `minAllowed` / `maxAllowed`, the global maximum filling
/// resources missing from `maxAllowed`; `uncapped_target` untouched. Returns the annotations
/// of the target's capping.
pub fn apply_vpa_policy(
    bounds: &mut Bounds,
    policy: Option<&ContainerPolicy>,
    global_max: &Resources,
) -> Vec<String> {
    let min = policy.map(|p| p.min_allowed).unwrap_or_default();
    let mut max = policy.map(|p| p.max_allowed).unwrap_or_default();
    for res in Resource::ALL {
        if max.get(res).is_none() {
            max.set(res, global_max.get(res));
        }
    }
    let notes = cap_to_min_max(&mut bounds.target, &min, &max);
    cap_to_min_max(&mut bounds.lower_bound, &min, &max);
    cap_to_min_max(&mut bounds.upper_bound, &min, &max);
    notes
}

/// `RequestsOnly` capping (upstream `capRecommendationToContainerLimit`): every set resource
/// above the container's limit is lowered to it (`"memory capped to container limit"`).
pub fn cap_to_limits(r: &mut Resources, limits: &Resources) -> Vec<String> {
    let mut notes = Vec::new();
    for res in Resource::ALL {
        if let (Some(v), Some(limit)) = (r.get(res), limits.get(res))
            && v > limit
        {
            r.set(res, Some(limit));
            notes.push(format!("{} capped to container limit", res.as_str()));
        }
    }
    notes
}

/// A limit computed to keep the container's limit:request ratio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProportionalLimit {
    /// The new limit (`None`: leave the limit unset).
    pub limit: Option<i64>,
    /// Upstream's annotation, when there is one (limit not set, or capped to `i64::MAX`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
}

/// Upstream `getProportionalResourceLimit` (spec §9.2), in the resource's unit (CPU
/// millicores, memory bytes): `limit × recommended / request`, floored, in exact integer
/// arithmetic; `i64::MAX` with an annotation when it overflows. An unset or zero original
/// limit falls back to `default_limit` (a LimitRange default); unset or zero request, or a
/// limit equal to the request, gives `limit = recommended`.
#[must_use]
pub fn proportional_limit(
    resource: Resource,
    original_limit: Option<i64>,
    original_request: Option<i64>,
    recommended_request: Option<i64>,
    default_limit: Option<i64>,
) -> ProportionalLimit {
    let name = resource.as_str();
    let mut limit = original_limit.unwrap_or(0);
    if limit == 0 {
        limit = default_limit.unwrap_or(0);
    }
    if limit == 0 {
        return ProportionalLimit {
            limit: None,
            annotation: Some(format!(
                "{name}: limit NOT set since originalLimit is nil or 0"
            )),
        };
    }
    let recommended = recommended_request.unwrap_or(0);
    if recommended == 0 {
        return ProportionalLimit {
            limit: None,
            annotation: Some(format!(
                "{name}: limit NOT set since recommendedRequest is nil or 0"
            )),
        };
    }
    let request = original_request.unwrap_or(0);
    if request == 0 || request == limit {
        return ProportionalLimit {
            limit: Some(recommended),
            annotation: None,
        };
    }
    let scaled = i128::from(limit) * i128::from(recommended);
    let quotient = scaled.div_euclid(i128::from(request));
    match i64::try_from(quotient) {
        Ok(q) => ProportionalLimit {
            limit: Some(q),
            annotation: None,
        },
        Err(_) => ProportionalLimit {
            limit: Some(i64::MAX),
            annotation: Some(format!(
                "{name}: failed to keep limit to request ratio; capping limit to int64"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportional_limits_follow_upstream_examples() {
        let cpu =
            |l, r, t| proportional_limit(Resource::Cpu, Some(l), Some(r), Some(t), None).limit;
        assert_eq!(cpu(2000, 1000, 10_000), Some(20_000));
        assert_eq!(cpu(2000, 1500, 1000), Some(1333));
        let mem = proportional_limit(Resource::Memory, Some(200), Some(150), Some(100), None);
        assert_eq!(mem.limit, Some(133));
    }

    #[test]
    fn rounding_up_to_a_scale() {
        assert_eq!(round_up_to_scale(1001, 100), 1100);
        assert_eq!(round_up_to_scale(1000, 100), 1000);
        assert_eq!(round_up_to_scale(7, 1), 7);
    }

    #[test]
    fn integer_cpu_rounds_up() {
        let mut b = Bounds {
            target: Resources::new(1001, 5),
            ..Bounds::default()
        };
        apply_integer_cpu(&mut b);
        assert_eq!(b.target, Resources::new(2000, 5));
    }
}
