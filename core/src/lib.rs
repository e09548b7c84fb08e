#![doc = include_str!("../../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod decision;
pub mod error;
mod fixed;
pub mod forecast;
mod scaler;
pub mod sim;
mod source;
pub mod spec;
pub mod time;
pub mod vpa;

pub use source::{hpa, keda, kpa, threshold};

pub use decision::{Decision, DecisionInput, LoadSamples, Proposal, SourceKind, Stage, Step};
pub use error::{Error, ErrorKind, Result};
pub use scaler::{STATE_VERSION, Scaler, ScalerState, VerticalDecision};
pub use spec::ScalerSpec;
pub use time::Timestamp;
