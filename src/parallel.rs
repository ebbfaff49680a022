//! Running independent jobs on the machine's cores, for the stages whose parts do not depend
//! on each other (parsing layer files, compiling folded layers).

/// `job(0)`, `job(1)`, ... `job(n - 1)`, run on the machine's cores (or `SCHEMAC_THREADS`),
/// in order. A panic in a job is raised again here.
pub fn map<R: Send>(n: usize, job: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let cores = std::env::var("SCHEMAC_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |c| c.get()));
    let threads = cores.min(n);
    if threads <= 1 {
        return (0..n).map(job).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= n {
                            return out;
                        }
                        out.push((i, job(i)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}
