#![doc = include_str!("../../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod error;
pub mod forecast;
pub mod hpa;
pub mod spec;
pub mod time;

pub use error::{Error, ErrorKind, Result};
pub use spec::ScalerSpec;
pub use time::Timestamp;
