//! The systemd manager boundary.
