//! The real-systemd test rig shared by the `container` and `vm` test
//! binaries (included with `#[path = "rig/mod.rs"] mod rig;`).
//!
//! A trial is `fn(&Guest) -> Result<(), String>`: it runs commands in a booted
//! systemd with [`Guest::sh`] / [`Guest::ok`] and returns a message on
//! failure; the harness appends the guest's evidence (units, journal).
//! See tests/README.md.
#![allow(dead_code, unused_imports)] // each test binary uses a different part

pub mod cache;
pub mod guest;
pub mod harness;
pub mod hostnet;
pub mod nspawn;
pub mod preflight;
pub mod procs;
pub mod qemu;
pub mod vm;
pub mod vm_guest;

pub use guest::{Guest, Output, wait_for};
pub use harness::TrialFn;
pub use vm::VmTrial;
