//! The horizontal sources: each turns one decision's observations into a proposed replica
//! count with its reason. The [`crate::Scaler`] runs the enabled ones and composes their
//! proposals (combine → hysteresis → limits, in `scaler`).
//!
//! | source | module | proposes from |
//! | --- | --- | --- |
//! | Kubernetes HPA | [`hpa`] | per-metric utilisation / values against targets, exactly as kube-controller-manager |
//! | threshold bands | [`threshold`] | the seed's up/down thresholds over named signals |
//! | predictive | `predictive` (configured by [`crate::spec::PredictiveSpec`]) | the load forecast over the start-up lead time |
//! | Knative KPA | [`kpa`] | revision-wide concurrency or rps over stable and panic windows, with scale-to-zero |
//! | KEDA | [`keda`] | a ScaledObject's triggers: HPA math on their values, activation, fallback, formulas |
//!
//! The vertical recommender ([`crate::vpa`]) sits beside them: it sizes requests, not replicas.

pub mod hpa;
pub mod keda;
pub mod kpa;
pub(crate) mod predictive;
pub mod threshold;
