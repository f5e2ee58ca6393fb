//! Where podctl's own log lines go: journald under systemd, stderr otherwise.

/// Logs to journald when running under systemd, to stderr otherwise.
pub fn init() {
    use tracing::Level;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    // podctl at info; its libraries (zbus) only when something is wrong.
    let filter = Targets::new()
        .with_default(Level::WARN)
        .with_target("podctl", Level::INFO);
    let under_systemd =
        std::env::var_os("JOURNAL_STREAM").is_some() || std::env::var_os("INVOCATION_ID").is_some();
    if under_systemd && let Ok(layer) = tracing_journald::layer() {
        // One identifier for the command and the supervisor (podctl-supervisor).
        let layer = layer.with_syslog_identifier("podctl".into());
        let _ = tracing_subscriber::registry()
            .with(layer.with_filter(filter))
            .try_init();
        return;
    }
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time();
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}
