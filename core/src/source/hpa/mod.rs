//! The Kubernetes HorizontalPodAutoscaler (autoscaling/v2), exactly.
//!
//! `specs/hpa.md` in the project's shared material is the contract; every step of the
//! controller is a public function here so that each can be checked against the upstream
//! test vectors (`testdata/vectors/hpa/`):
//!
//! | step | function | spec |
//! | --- | --- | --- |
//! | pod classification | [`group_pods`] | §3 |
//! | one metric → replicas | [`metric_proposal`] | §4–§5 |
//! | a failed metric's texts, word for word (calculator, condition, sync error) | [`MetricFailure`] | §6.1 |
//! | legacy stabilization / clamp | [`stabilize_legacy`], [`limit_legacy`] | §8.1–§8.2 |
//! | behavior stabilization / rate limits | [`stabilize_with_behavior`], [`limit_with_behavior`] | §8.3–§8.4 |
//! | scale-event bookkeeping | [`store_scale_event`] | §8.5 |
//! | one whole sync | [`reconcile`] | §1, §6–§9 |

mod calculator;
mod conditions;
mod input;
mod normalize;
mod pods;
mod reconcile;
mod state;

pub use calculator::*;
pub use conditions::{Condition, ConditionReason, ConditionType, set_condition};
pub use input::{
    ConditionStatus, Container, ContainerUsage, InitContainer, MetricInput, Pod, PodMetricSample,
    PodPhase, PodResourceSample, ReadyCondition,
};
pub use normalize::*;
pub use pods::*;
pub use reconcile::*;
pub use state::{HpaHistory, Recommendation, ScaleEvent};

pub use crate::spec::{
    Behavior, Compatibility, ControllerConfig, DescribedObject, LabelSelector,
    LabelSelectorRequirement, MetricSpec, MetricTarget, PolicyType, ScalingPolicy, ScalingRules,
    SelectPolicy, TargetType,
};
