//! Links podctl-pause as a freestanding static executable (no libc, no startup files).
fn main() {
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--build-id=none",
    ] {
        println!("cargo:rustc-link-arg-bin=podctl-pause={arg}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
