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
pub mod hpa;
mod predictive;
mod scaler;
pub mod sim;
pub mod spec;
pub mod threshold;
pub mod time;
pub mod vpa;

pub use decision::{Decision, DecisionInput, LoadSamples, Proposal, SourceKind, Stage, Step};
pub use error::{Error, ErrorKind, Result};
pub use scaler::{STATE_VERSION, Scaler, ScalerState};
pub use spec::ScalerSpec;
pub use time::Timestamp;
