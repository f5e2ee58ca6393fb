//! What a released container helper says on its status pipe, written by
//! the helper ([`super::container`]) and read by the supervisor
//! ([`super::launch`]) and by the fake helpers of tests
//! ([`super::process::fake`]): the one place its text is made and read.

/// Why a helper could not start its container, as it reports it on the
/// status pipe (`KIND\tMESSAGE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupFault {
    /// The definition makes the start impossible, and retrying cannot help:
    /// a command that does not exist, a user unknown to the host.
    Definition,
    /// Anything else (a fork that failed, an NSS lookup that failed, a
    /// namespace that went away): worth retrying.
    Transient,
}

impl SetupFault {
    pub fn as_str(self) -> &'static str {
        match self {
            SetupFault::Definition => "definition",
            SetupFault::Transient => "transient",
        }
    }

    /// Splits a status pipe report into its fault and message; a report
    /// without a known kind is transient.
    pub fn parse(report: &str) -> (SetupFault, &str) {
        match report.split_once('\t') {
            Some(("definition", m)) => (SetupFault::Definition, m),
            Some(("transient", m)) => (SetupFault::Transient, m),
            _ => (SetupFault::Transient, report),
        }
    }
}

/// What a released container helper reports on its status pipe:
/// `started\tINIT` (the runtime started the container: its init's PID) or
/// `KIND\tMESSAGE` (a [`SetupFault`]). Anything else, nothing included (the
/// helper died before it could say), is a transient failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    Started { init: u32 },
    Failed { fault: SetupFault, message: String },
}

impl Report {
    const STARTED: &'static str = "started";

    /// The report of a container whose init is `init`.
    pub fn started(init: u32) -> String {
        format!("{}\t{init}", Self::STARTED)
    }

    pub fn parse(report: &str) -> Report {
        let report = report.trim();
        if report.is_empty() {
            return Report::Failed {
                fault: SetupFault::Transient,
                message: "the container helper ended without reporting a start".into(),
            };
        }
        if let Some(init) = report
            .strip_prefix(Self::STARTED)
            .and_then(|r| r.strip_prefix('\t'))
            .and_then(|p| p.parse().ok())
        {
            return Report::Started { init };
        }
        let (fault, message) = SetupFault::parse(report);
        Report::Failed {
            fault,
            message: message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_read_back() {
        assert_eq!(
            Report::parse(&Report::started(4242)),
            Report::Started { init: 4242 }
        );
        // Nothing: the helper died before it could report.
        assert!(matches!(
            Report::parse(""),
            Report::Failed {
                fault: SetupFault::Transient,
                ..
            }
        ));
        assert_eq!(
            Report::parse("definition\tcannot execute x"),
            Report::Failed {
                fault: SetupFault::Definition,
                message: "cannot execute x".into()
            }
        );
        // Not a PID: a failure whose message says so, not a start.
        assert!(matches!(
            Report::parse("started\tx"),
            Report::Failed {
                fault: SetupFault::Transient,
                ..
            }
        ));
    }

    #[test]
    fn reports_say_whose_fault() {
        assert_eq!(
            SetupFault::parse("definition\tcommand \"x\" not found"),
            (SetupFault::Definition, "command \"x\" not found")
        );
        assert_eq!(
            SetupFault::parse("transient\tfork: EAGAIN"),
            (SetupFault::Transient, "fork: EAGAIN")
        );
        assert_eq!(
            SetupFault::parse("something odd"),
            (SetupFault::Transient, "something odd")
        );
    }
}
