use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay`, by its number in mimalloc v3's `mi_option_e` (`mimalloc.h` of
/// libmimalloc-sys 0.1.49, as Cargo.lock pins it; the sys crate names only some of the
/// options, so check the header when upgrading it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // A compile frees and allocates hundreds of megabytes in waves. By default mimalloc
    // hands freed pages back to the kernel after a short delay (and asks for transparent huge
    // pages, which the `no_thp` feature turns off): each wave then faults fresh zeroed pages
    // in again. A run is short and its peak is what it holds anyway: keep the pages.
    // MIMALLOC_PURGE_DELAY still decides when it is set. BENCHMARKS.md has the figures.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an option's value while no other thread exists; mimalloc reads it
        // when it next considers purging.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
    schemac::cli::run(schemac::cli::Cli::parse())
}
