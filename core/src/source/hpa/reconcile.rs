//! One whole HPA controller sync as a pure function.

use crate::decision::{Decision, DecisionInput};
use crate::error::Result;
use crate::scaler::{Scaler, ScalerState};
use crate::source::hpa::HpaHistory;
use crate::spec::ScalerSpec;

/// Runs one Kubernetes HPA sync (`specs/hpa.md` §1) for `spec` with the controller memory
/// `history`, exactly as the upstream controller would, and updates `history`.
///
/// Unlike [`Scaler::new`], the spec is not validated: like the controller, this runs whatever
/// object it is given, and a metric of a type it does not know
/// ([`crate::spec::MetricSpec::Unsupported`]) is reported as `InvalidMetricSourceType` in the
/// decision's conditions instead of being refused. Controllers that load their own specs should
/// prefer [`Scaler`], which validates once.
///
/// ```
/// use replicast::hpa::{self, HpaHistory, MetricInput};
/// use replicast::{DecisionInput, ScalerSpec};
///
/// let spec = ScalerSpec::from_yaml(r#"
/// min_replicas: 1
/// max_replicas: 10
/// hpa: {metrics: [{type: resource, resource: cpu, target: {type: utilization, average_utilization: 50}}]}
/// "#).unwrap();
/// let mut history = HpaHistory::default();
/// let input = DecisionInput {
///     now_ms: 1_700_000_000_000,
///     current_replicas: 4,
///     metrics: vec![MetricInput::Aggregated { value: 20.0, ready_replicas: 4 }],
///     ..DecisionInput::default()
/// };
/// let decision = hpa::reconcile(&spec, &mut history, &input).unwrap();
/// assert_eq!(decision.replicas, 4); // the first sync seeds a 5-minute downscale window
/// // the seed (4) and this sync's recommendation (2) are remembered
/// assert_eq!(history.recommendations.as_ref().unwrap().len(), 2);
/// ```
///
/// # Errors
/// [`crate::ErrorKind::InvalidInput`] for unusable observations; `history` is then untouched.
pub fn reconcile(
    spec: &ScalerSpec,
    history: &mut HpaHistory,
    input: &DecisionInput,
) -> Result<Decision> {
    let scaler = Scaler::unchecked(spec.clone());
    let mut state = ScalerState::with_hpa_history(history.clone());
    let decision = scaler.decide(&mut state, input)?;
    history.clone_from(state.hpa_history());
    Ok(decision)
}
