//! The worker's memory bound (`sink.memory_limit_mb`).
//!
//! `flush_max_bytes` counts payload bytes, but a buffered message costs
//! several times its payload once decoded and analysed (measured: about
//! 7 KiB for a 1.2 KiB review), and a commit needs more again while it
//! encodes the buffer as Arrow and Parquet. So the bound watches what the
//! process really holds, its resident set, and commits early when the
//! buffer's growth plus what its commit will need would cross the limit.
//!
//! [`MemoryGuard`] is pure: the run loop passes in the resident sizes it
//! reads, so tests drive it without a process to measure.

/// The share of the limit the guard plans to use at a commit's peak; the
/// rest absorbs what a sample interval and the estimate miss.
const TARGET_PERCENT: u64 = 85;
/// What a commit needs on top of what it commits, as a multiple of the
/// buffer's growth: the Arrow arrays, the Parquet pages and their
/// compressed copies (measured: up to about twice; three
/// keeps the peak under the limit in the runs measured).
const COMMIT_COST: u64 = 3;
/// Resident size is read once per this many messages (a read costs a few
/// system calls; at 50,000 messages/s this is about 200 reads a second).
const SAMPLE_EVERY: u64 = 256;
/// An early commit is made only if the buffer has grown by at least this
/// share of the limit (1/32): below it, memory is high for reasons a commit
/// cannot fix, and committing every few hundred messages would not help.
const MIN_GROWTH_DIVISOR: u64 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pressure {
    /// Within the bound.
    Fine,
    /// Commit now: the buffer and its encoding would cross the bound.
    Commit,
    /// Over the bound with little buffered: something other than the
    /// buffer holds the memory (librdkafka's queue, a large table log).
    Unrelieved,
}

#[derive(Debug)]
pub struct MemoryGuard {
    target: Option<u64>,
    min_growth: u64,
    /// Resident size after the last commit: what the worker holds with an
    /// empty buffer.
    baseline: u64,
    next_sample: u64,
}

impl MemoryGuard {
    /// `limit_bytes` 0 turns the bound off.
    pub fn new(limit_bytes: u64) -> MemoryGuard {
        MemoryGuard {
            target: (limit_bytes > 0).then(|| limit_bytes / 100 * TARGET_PERCENT),
            min_growth: limit_bytes / MIN_GROWTH_DIVISOR,
            baseline: 0,
            next_sample: 0,
        }
    }

    /// Whether there is a bound at all.
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// Whether the resident size should be read now, after `consumed`
    /// messages in all.
    pub fn wants_sample(&self, consumed: u64) -> bool {
        self.target.is_some() && consumed >= self.next_sample
    }

    /// Given the resident size just read, with something buffered.
    pub fn check(&mut self, consumed: u64, resident: u64) -> Pressure {
        self.next_sample = consumed + SAMPLE_EVERY;
        let Some(target) = self.target else {
            return Pressure::Fine;
        };
        // Before the first commit the baseline is unknown; the first
        // sample stands in for it (the buffer then holds a few hundred
        // messages at most).
        if self.baseline == 0 {
            self.baseline = resident;
        }
        let growth = resident.saturating_sub(self.baseline);
        if resident.saturating_add(growth.saturating_mul(COMMIT_COST)) < target {
            Pressure::Fine
        } else if growth >= self.min_growth {
            Pressure::Commit
        } else {
            Pressure::Unrelieved
        }
    }

    /// After a commit, with the resident size read once the buffer was
    /// freed.
    pub fn committed(&mut self, resident: u64) {
        self.baseline = resident;
    }
}

/// The process's resident set size in bytes, where the platform tells
/// (Linux); `None` elsewhere, which leaves the bound to the flush sizes.
pub fn resident_bytes() -> Option<u64> {
    status_bytes("VmRSS:")
}

/// The process's peak resident set size in bytes, where the platform tells
/// (Linux), for the benchmark's report.
pub fn peak_resident_bytes() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// A size field of `/proc/self/status`, which gives KiB, so no page size is
/// assumed.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Hands the memory a commit freed back to the system. glibc keeps freed
/// small allocations in its arenas, so without this the resident size
/// stays at its peak and the guard would see pressure that is not there.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own free lists; it takes no
    // pointers and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn commits_when_the_buffer_and_its_commit_would_cross_the_target() {
        // Limit 512 MiB: target 435 MiB (85 %).
        let mut guard = MemoryGuard::new(512 * MIB);
        assert!(guard.wants_sample(0));
        assert_eq!(guard.check(0, 100 * MIB), Pressure::Fine);
        assert!(!guard.wants_sample(255));
        assert!(guard.wants_sample(256));
        // 100 + 80 = 180 held, + 3 × 80 for the commit = 420: fine.
        assert_eq!(guard.check(256, 180 * MIB), Pressure::Fine);
        // 100 + 85 = 185, + 255 = 440: past the target.
        assert_eq!(guard.check(512, 185 * MIB), Pressure::Commit);
    }

    #[test]
    fn the_baseline_follows_commits() {
        let mut guard = MemoryGuard::new(512 * MIB);
        assert_eq!(guard.check(0, 100 * MIB), Pressure::Fine);
        assert_eq!(guard.check(256, 300 * MIB), Pressure::Commit);
        // The commit freed less than it held: from here a smaller buffer
        // is due sooner.
        guard.committed(150 * MIB);
        assert_eq!(guard.check(512, 200 * MIB), Pressure::Fine);
        assert_eq!(guard.check(768, 225 * MIB), Pressure::Commit);
    }

    #[test]
    fn memory_the_buffer_does_not_hold_is_reported_not_committed() {
        let mut guard = MemoryGuard::new(256 * MIB);
        guard.committed(240 * MIB);
        // Growth 4 MiB < 8 MiB (1/32 of the limit): a commit frees too
        // little to matter.
        assert_eq!(guard.check(0, 244 * MIB), Pressure::Unrelieved);
        assert_eq!(guard.check(256, 250 * MIB), Pressure::Commit);
    }

    #[test]
    fn a_zero_limit_never_samples_or_presses() {
        let mut guard = MemoryGuard::new(0);
        assert!(!guard.wants_sample(0));
        assert_eq!(guard.check(0, u64::MAX), Pressure::Fine);
    }

    #[test]
    fn reads_this_process_resident_size() {
        if cfg!(target_os = "linux") {
            release_freed();
            let rss = resident_bytes().expect("/proc/self/status on Linux");
            // A test binary is resident in at least a megabyte and less
            // than the machine.
            assert!((MIB..64 * 1024 * MIB).contains(&rss), "{rss}");
            let peak = peak_resident_bytes().expect("VmHWM on Linux");
            assert!(peak >= rss, "peak {peak} below current {rss}");
        }
    }
}
