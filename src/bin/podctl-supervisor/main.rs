//! podctl-supervisor: what `pod@NAME.service` runs (`podctl-supervisor up NAME`),
//! and the helpers the supervisor starts from its own binary (`__spawn`,
//! `__probe`, `__enter`); see [`podctl::supervise::entry`]. The same code as
//! `podctl up`, in a binary without the command line's registry client, TLS
//! (libssl/libcrypto are not even loaded), YAML and clap: each running pod
//! maps, relocates and touches less.

fn main() -> std::process::ExitCode {
    // The image store's user-namespace helper (a user's pods).
    if let Some(code) = podctl::image::userns::child_if_asked() {
        return code;
    }
    podctl::supervise::entry::main()
}
