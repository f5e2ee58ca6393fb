//! A supervisor runs for as long as its pod, one per pod: what its start
//! leaves allocated, or its allocator keeps, is paid once per running pod.
//! glibc only (the target podctl builds for); elsewhere these do nothing.
//!
//! The supervisor gives back what its work left ([`release_free`],
//! [`release_code`]) once it has been quiet for [`SETTLE`]: the threads that
//! served the work (the bridge to systemd, call timers) end meanwhile, and
//! what they free or run as they end is not left behind.

use std::time::Duration;

/// How long the supervisor waits with nothing happening before it gives
/// back memory.
pub const SETTLE: Duration = Duration::from_millis(250);

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

/// Unmaps, from this process only, the pages of its own binary that hold no
/// writable data: the code and read-only data the start ran and read (the
/// definition parsed, the plan assembled, the D-Bus client), which a
/// waiting supervisor does not touch. Nothing is lost: they are clean pages
/// of the file, still in the page cache, mapped again by the next access to
/// them (a minor fault, no read). A process alone with its binary counts
/// every page mapped, whole (PSS); the waiting loop maps back the few it
/// runs. Writable segments (`.data`, `.bss`, the relocated `.data.rel.ro`)
/// are left as they are. Does nothing if the binary has text relocations
/// (its read-only pages would then hold what the loader wrote), nor while a
/// debugger traces the process (its breakpoints are code pages it wrote).
pub fn release_code() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    code::release();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod code {
    use libc::{Elf64_Phdr, c_int, c_void, dl_phdr_info, size_t};

    const DT_NULL: i64 = 0;
    const DT_TEXTREL: i64 = 22;
    const DT_FLAGS: i64 = 30;
    const DF_TEXTREL: u64 = 4;

    pub(super) fn release() {
        if traced() {
            return;
        }
        // SAFETY: the callback reads only the program headers glibc passes
        // it for the duration of the call, and stops at the first object
        // (the program itself).
        unsafe {
            libc::dl_iterate_phdr(Some(first_object), std::ptr::null_mut());
        }
    }

    /// Whether a tracer is attached (or that cannot be read): a release
    /// would drop the breakpoints it wrote into the code.
    pub(super) fn traced() -> bool {
        std::fs::read_to_string("/proc/self/status").map_or(true, |s| {
            s.lines()
                .filter_map(|l| l.strip_prefix("TracerPid:"))
                .any(|pid| pid.trim() != "0")
        })
    }

    /// The `dl_iterate_phdr` callback: releases the program's read-only
    /// segments and returns 1 (stop: the first object is the program).
    unsafe extern "C" fn first_object(
        info: *mut dl_phdr_info,
        _size: size_t,
        _data: *mut c_void,
    ) -> c_int {
        // SAFETY: glibc passes a valid `dl_phdr_info` whose `dlpi_phdr`
        // points at `dlpi_phnum` program headers of a loaded object.
        let (base, phdrs) = unsafe {
            let info = &*info;
            let phdrs = std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum));
            (info.dlpi_addr as usize, phdrs)
        };
        // SAFETY: the dynamic section of a loaded object is mapped at its
        // address and ends with DT_NULL.
        if phdrs.iter().any(|p| unsafe { text_relocations(base, p) }) {
            return 1;
        }
        for p in phdrs {
            if p.p_type == libc::PT_LOAD && p.p_flags & libc::PF_W == 0 && p.p_memsz > 0 {
                release_range(base + p.p_vaddr as usize, p.p_memsz as usize);
            }
        }
        1
    }

    /// Whether `p` is the dynamic section and asks for text relocations.
    ///
    /// # Safety
    /// `p` is a program header of the object loaded at `base`.
    unsafe fn text_relocations(base: usize, p: &Elf64_Phdr) -> bool {
        if p.p_type != libc::PT_DYNAMIC {
            return false;
        }
        let mut entry = (base + p.p_vaddr as usize) as *const [i64; 2];
        loop {
            // SAFETY: within the dynamic section, which DT_NULL ends.
            let [tag, value] = unsafe { *entry };
            match tag {
                DT_NULL => return false,
                DT_TEXTREL => return true,
                DT_FLAGS if value as u64 & DF_TEXTREL != 0 => return true,
                _ => {}
            }
            // SAFETY: the next entry; the section goes on until DT_NULL.
            entry = unsafe { entry.add(1) };
        }
    }

    /// MADV_DONTNEED over the pages of `[start, start + len)`: a segment's
    /// pages are mapped by its own mapping only (segments with other
    /// permissions start on pages of their own).
    fn release_range(start: usize, len: usize) {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let from = start & !(page - 1);
        let to = (start + len).div_ceil(page) * page;
        // SAFETY: the range is a read-only, file-backed segment of this
        // program, never written: dropping its pages from this process
        // makes the next access map the file's same bytes again.
        unsafe {
            libc::madvise(from as *mut c_void, to - from, libc::MADV_DONTNEED);
        }
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use std::hint::black_box;

    /// Whether the page at `addr` is mapped in this process
    /// (`/proc/self/pagemap`, bit 63: present).
    fn mapped(addr: usize) -> bool {
        use std::os::unix::fs::FileExt;
        let page = 4096;
        let mut entry = [0u8; 8];
        std::fs::File::open("/proc/self/pagemap")
            .unwrap()
            .read_exact_at(&mut entry, (addr / page * 8) as u64)
            .unwrap();
        u64::from_le_bytes(entry) >> 63 == 1
    }

    /// Read-only data nothing else reads, larger than the kernel maps
    /// around a fault (64 KiB): its middle page is mapped only by reading it.
    static READ_ONLY: [u8; 512 * 1024] = [7; 512 * 1024];
    /// Relocated at load (PIE): pointers in `.data.rel.ro`, a writable
    /// segment made read-only after relocation, which must keep them.
    static RELOCATED: &[&str] = &["supervisor", "holder", "relay"];
    static mut WRITTEN: u64 = 0;

    #[test]
    fn read_only_pages_go_and_come_back_and_data_stays() {
        let middle = &black_box(&READ_ONLY)[READ_ONLY.len() / 2];
        assert_eq!(*middle, 7);
        let addr = middle as *const u8 as usize;
        assert!(mapped(addr), "just read: its page is mapped");
        // SAFETY: only this test touches WRITTEN.
        unsafe { WRITTEN = 42 };
        super::release_code();
        // Under a debugger nothing is released (its breakpoints stay).
        let traced = super::code::traced();
        assert_eq!(
            mapped(addr),
            traced,
            "mapped after release_code (traced: {traced})"
        );
        assert_eq!(*black_box(middle), 7, "read again from the file, the same");
        assert!(mapped(addr));
        // SAFETY: only this test touches WRITTEN.
        assert_eq!(unsafe { WRITTEN }, 42, ".data kept what was written");
        assert_eq!(black_box(RELOCATED).concat(), "supervisorholderrelay");
    }
}
