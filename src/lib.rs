//! podctl: declarative, systemd-native pods.
//!
//! A pod file goes through four stages: [`spec`] parses and validates it into a
//! [`model::Pod`]; [`plan`] turns that into the exact transient units, D-Bus
//! properties and namespace steps; [`runtime`] carries the plan out through a
//! [`systemd::Manager`]. Only the last stage touches the host.

pub mod cli;
pub mod model;
pub mod plan;
pub mod runtime;
pub mod spec;
pub mod systemd;
