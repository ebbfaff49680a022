//! Running independent jobs on the machine's cores, for the stages whose parts do not depend
//! on each other (parsing layer files, compiling folded layers).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

/// How many threads run jobs: the machine's cores, or `SCHEMAC_THREADS`.
fn cores() -> usize {
    std::env::var("SCHEMAC_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |c| c.get()))
}

/// `a()` and `b()`, `a` on another thread when there are cores for both (`SCHEMAC_THREADS`).
/// A panic in either is raised again here.
pub fn join<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    if cores() <= 1 {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let a = s.spawn(a);
        let b = b();
        (a.join().unwrap_or_else(|p| std::panic::resume_unwind(p)), b)
    })
}

/// `job(0)`, `job(1)`, ... `job(n - 1)`, run on the machine's cores (or `SCHEMAC_THREADS`),
/// in order. A panic in a job is raised again here.
pub fn map<R: Send>(n: usize, job: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let threads = cores().min(n);
    if threads <= 1 {
        return (0..n).map(job).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
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

/// `job(0)`, ... `job(n - 1)` on the machine's cores, each result handed to `then` on the
/// calling thread, in job order, as soon as it and every one before it are done: the caller
/// works on one result while the other cores compute the next, and runs jobs itself while
/// it waits for the next result. A panic in a job is raised again here.
pub fn map_then<R: Send>(n: usize, job: impl Fn(usize) -> R + Sync, mut then: impl FnMut(R)) {
    let cores = cores();
    if cores <= 1 || n <= 1 {
        for i in 0..n {
            then(job(i));
        }
        return;
    }
    let next = AtomicUsize::new(0);
    let (job, next) = (&job, &next);
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel();
        // The calling thread is the last of the cores.
        let workers: Vec<_> = (1..cores.min(n))
            .map(|_| {
                let tx = tx.clone();
                s.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n || tx.send((i, job(i))).is_err() {
                        return;
                    }
                })
            })
            .collect();
        drop(tx);
        // Results that came before their turn.
        let mut early: Vec<Option<R>> = (0..n).map(|_| None).collect();
        let mut due = 0;
        while due < n {
            if let Some(r) = early[due].take() {
                then(r);
                due += 1;
                continue;
            }
            if let Ok((i, r)) = rx.try_recv() {
                early[i] = Some(r);
                continue;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i < n {
                early[i] = Some(job(i));
                continue;
            }
            // Every job is taken: wait for the workers. None left means one panicked.
            match rx.recv() {
                Ok((i, r)) => early[i] = Some(r),
                Err(_) => break,
            }
        }
        for w in workers {
            w.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
    });
}

/// Jobs that start while the caller is still making them: `produce` runs on the calling
/// thread and hands jobs to the function it is given; the other cores run them as they come,
/// and the calling thread runs what is left once `produce` is done. Returns what `produce`
/// returned and the jobs' results in the order they were handed over. On one core each job
/// runs when it is handed over. A panic in a job or in `produce` is raised again here.
pub fn overlap<J: Send, R: Send, T>(
    work: impl Fn(J) -> R + Sync,
    produce: impl FnOnce(&mut dyn FnMut(J)) -> T,
) -> (T, Vec<R>) {
    let cores = cores();
    if cores <= 1 {
        let mut done = Vec::new();
        let made = produce(&mut |job| done.push(work(job)));
        return (made, done);
    }
    struct Queue<J> {
        jobs: VecDeque<(usize, J)>,
        closed: bool,
    }
    /// Closes the queue when `produce` is done or panics, so that no worker waits forever.
    struct Close<'q, J>(&'q Mutex<Queue<J>>, &'q Condvar);
    impl<J> Drop for Close<'_, J> {
        fn drop(&mut self) {
            self.0.lock().unwrap_or_else(PoisonError::into_inner).closed = true;
            self.1.notify_all();
        }
    }
    let queue = Mutex::new(Queue {
        jobs: VecDeque::new(),
        closed: false,
    });
    let ready = Condvar::new();
    let run = || {
        let mut out = Vec::new();
        loop {
            let mut q = queue.lock().unwrap_or_else(PoisonError::into_inner);
            let (i, job) = loop {
                if let Some(next) = q.jobs.pop_front() {
                    break next;
                }
                if q.closed {
                    return out;
                }
                q = ready.wait(q).unwrap_or_else(PoisonError::into_inner);
            };
            drop(q);
            out.push((i, work(job)));
        }
    };
    std::thread::scope(|s| {
        let workers: Vec<_> = (1..cores).map(|_| s.spawn(run)).collect();
        let made = {
            let _close = Close(&queue, &ready);
            let mut n = 0;
            produce(&mut |job| {
                queue
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .jobs
                    .push_back((n, job));
                n += 1;
                ready.notify_one();
            })
        };
        let mut done = run();
        for w in workers {
            done.extend(w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        done.sort_by_key(|(i, _)| *i);
        (made, done.into_iter().map(|(_, r)| r).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_then_hands_every_result_over_in_order() {
        let mut seen = Vec::new();
        map_then(
            200,
            |i| {
                // Later jobs finish first now and then.
                if i % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                i * 3
            },
            |r| seen.push(r),
        );
        let expected: Vec<usize> = (0..200).map(|i| i * 3).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn overlap_runs_jobs_while_they_are_made_and_keeps_their_order() {
        let (made, results) = overlap(
            |i: usize| {
                if i % 5 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                i * 2
            },
            |push| {
                for i in 0..100 {
                    push(i);
                }
                "made"
            },
        );
        assert_eq!(made, "made");
        assert_eq!(results, (0..100).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn overlap_raises_a_panic_of_the_producer_without_waiting_forever() {
        let caught = std::panic::catch_unwind(|| {
            overlap(
                |i: usize| i,
                |push| {
                    push(1);
                    panic!("the producer fails");
                },
            )
        });
        assert!(caught.is_err());
    }

    #[test]
    fn map_then_raises_a_panic_of_a_job() {
        let caught = std::panic::catch_unwind(|| {
            map_then(
                50,
                |i| {
                    assert!(i != 20, "job 20 fails");
                    i
                },
                |_| {},
            )
        });
        // With one core the jobs run on this thread: the panic is the same.
        assert!(caught.is_err());
    }
}
