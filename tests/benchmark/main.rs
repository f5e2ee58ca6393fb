//! Placeholder: the pod benchmark is being written (see issue 7).
fn main() {
    eprintln!("benches/pods.rs: not written yet");
}
