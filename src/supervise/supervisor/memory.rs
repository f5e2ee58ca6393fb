//! A supervisor runs for as long as its pod, one per pod: what its start
//! leaves allocated, or its allocator keeps, is paid once per running pod.
//! glibc only (the target podctl builds for); elsewhere these do nothing.

/// One malloc arena for the whole process. glibc gives each thread that
/// allocates an arena of its own (up to 8 per core) and keeps it after the
/// thread ends, with its touched pages; the supervisor's threads (the bridge
/// to systemd's socket, call timers) are short-lived and seldom allocate at
/// the same moment, so they share the main arena and what they free there
/// can be returned by [`release_free`]. Call before any thread exists.
pub fn one_arena() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets a parameter of glibc's allocator; no thread
    // is allocating concurrently (none exists yet).
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Hands the heap's free pages back to the kernel: what the start, a stop,
/// a reload or a restart allocated and freed again. Cheap on a heap this
/// small (it walks the free chunks once); called before each wait.
pub fn release_free() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only returns memory the allocator holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}
