use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOC: MiMalloc = MiMalloc;

/// mimalloc, asked for alignment only when its plain allocation does not give it. (The
/// `mimalloc` crate asks for every allocation aligned: mimalloc v3 then takes a slow path,
/// over-allocating from another size class, whenever the size class's page has no free
/// block, and keeps doing so since that page is never made. At 5,000 tables that was 2.1
/// of `check`'s 13 million allocations, 4 % of its instructions; BENCHMARKS.md.)
struct MiMalloc;

/// What a plain mimalloc block is aligned to: 16 bytes from 16 bytes of size on (`alloc.c`
/// asserts it of every block), 8 below. Rust's own `System` allocator relies on glibc's
/// malloc the same way.
fn plain_is_aligned(layout: std::alloc::Layout) -> bool {
    layout.align() <= 8 || (layout.align() <= 16 && layout.size() >= 16)
}

// SAFETY: every block comes from mimalloc and goes back to it; a layout's alignment is met
// either by the plain functions (see `plain_is_aligned`) or by the aligned ones.
unsafe impl std::alloc::GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys::{mi_malloc, mi_malloc_aligned};
        // SAFETY: mimalloc's allocation functions take any size and alignment.
        unsafe {
            if plain_is_aligned(layout) {
                mi_malloc(layout.size()).cast()
            } else {
                mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys::{mi_zalloc, mi_zalloc_aligned};
        // SAFETY: as for `alloc`.
        unsafe {
            if plain_is_aligned(layout) {
                mi_zalloc(layout.size()).cast()
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: `ptr` was allocated by mimalloc (GlobalAlloc's contract).
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        use libmimalloc_sys::{mi_realloc, mi_realloc_aligned};
        // SAFETY: `ptr` was allocated by mimalloc with `layout`; the new block must meet
        // the same alignment at the new size.
        unsafe {
            let new = std::alloc::Layout::from_size_align_unchecked(new_size, layout.align());
            if plain_is_aligned(new) {
                mi_realloc(ptr.cast(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

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

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout};

    use super::MiMalloc;

    /// Whether `p` is aligned to `align` and its first `n` bytes are all `byte`.
    ///
    /// # Safety
    /// `p` points to at least `n` bytes.
    unsafe fn holds(p: *mut u8, align: usize, n: usize, byte: u8) -> bool {
        // SAFETY: the caller's.
        !p.is_null()
            && p as usize % align == 0
            && unsafe { std::slice::from_raw_parts(p, n) }
                .iter()
                .all(|&b| b == byte)
    }

    /// Every size up to 600 bytes (and some large ones) at every alignment up to 4 KiB, most
    /// sizes not a multiple of it (a layout allows that): each block is aligned, zeroed when
    /// asked, and keeps its bytes when reallocated three times larger, then to half its first
    /// size. Asking mimalloc for plain blocks whenever the alignment is at most 16 fails it.
    #[test]
    fn blocks_are_aligned_and_keep_their_bytes() {
        let sizes = (1..=600).chain([1000, 4096, 5000, 70_000, 3 << 20]);
        for size in sizes {
            for align in (0..=12).map(|s| 1usize << s) {
                let at = |n: usize| Layout::from_size_align(n, align);
                let layout = at(size).unwrap();
                let (larger, smaller) = (at(3 * size).unwrap(), at(size.div_ceil(2)).unwrap());
                // SAFETY: non-zero layouts; each block is used within its size and freed
                // once, with the layout it has then.
                unsafe {
                    let z = MiMalloc.alloc_zeroed(layout);
                    assert!(holds(z, align, layout.size(), 0), "{layout:?}");
                    MiMalloc.dealloc(z, layout);
                    let p = MiMalloc.alloc(layout);
                    assert!(holds(p, align, 0, 0), "{layout:?}");
                    p.write_bytes(0xa5, layout.size());
                    let q = MiMalloc.realloc(p, layout, larger.size());
                    assert!(
                        holds(q, align, layout.size(), 0xa5),
                        "{layout:?} to {larger:?}"
                    );
                    let r = MiMalloc.realloc(q, larger, smaller.size());
                    assert!(
                        holds(r, align, smaller.size(), 0xa5),
                        "{larger:?} to {smaller:?}"
                    );
                    MiMalloc.dealloc(r, smaller);
                }
            }
        }
    }
}
