//! Horizontal replica sources, one module each.

pub mod kpa;
