//! podctl's own trials for the real-systemd bench (tests/rig): the
//! container tier's list in `container`, the VM tier's in `vm`.
#![allow(dead_code)] // each test binary uses one of the lists

pub mod cli;
pub mod cli_more;
pub mod common;
pub mod confined;
pub mod container;
pub mod hooks;
pub mod hostile_boundary;
pub mod hostile_image;
pub mod hostile_manifest;
pub mod hostile_runtime;
pub mod image_offline;
pub mod image_pods;
pub mod image_rig;
pub mod images;
pub mod install;
pub mod isolation;
pub mod kube;
pub mod kube_dir;
pub mod kube_docs;
pub mod kube_groups;
pub mod kube_peer;
pub mod kube_projected;
pub mod kube_stdio;
pub mod lifecycle;
pub mod needs;
pub mod network;
pub mod oci_vm;
pub mod packaging;
pub mod promises;
pub mod quickstart;
pub mod reconcile;
pub mod rootless;
pub mod secrets;
pub mod security;
pub mod update_timer;
pub mod updates;
pub mod updates_kill;
pub mod updates_pull;
pub mod updates_rollback;
pub mod userns;
pub mod vm;
pub mod volumes;
