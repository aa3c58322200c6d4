//! The process's memory settings (`riskgrade::alloc`): memory a stage freed goes back to the OS
//! when a large run asks for it between stages, whenever it was freed.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Resident memory of this process, bytes.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("resident pages");
    // SAFETY: sysconf reads a system constant.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

#[test]
fn memory_freed_while_kept_for_reuse_goes_back_between_stages() {
    const MIB: usize = 1024 * 1024;
    riskgrade::alloc::tune_memory();
    let before = resident();
    // A stage's buffers: 64 of 8 MiB, every page touched, then freed while the run keeps
    // freed memory for reuse.
    let buffers: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8 | 1; 8 * MIB]).collect();
    let checksum: u64 = buffers.iter().map(|b| b[b.len() - 1] as u64).sum();
    assert!(checksum > 0);
    let held = resident();
    assert!(
        held >= before + 400 * MIB as u64,
        "the buffers were not resident: {before} then {held} bytes"
    );
    drop(buffers);
    assert!(
        resident() >= before + 400 * MIB as u64,
        "freed memory should stay for reuse within a stage"
    );
    // A large run from here on: what the stage freed goes back at the stage's end.
    riskgrade::alloc::return_freed_memory();
    riskgrade::alloc::release_freed_memory();
    let after = resident();
    assert!(
        after + 400 * (MIB as u64) <= held,
        "freed memory stayed resident: {held} bytes with the buffers, {after} after"
    );
}
