//! The host thread pool: rayon's global pool, with the thread that loads the library as one of
//! its workers.
//!
//! A parallel loop started from a thread outside the pool hands the whole loop to the pool and
//! blocks until a worker has finished it: two cross-thread wake-ups per op, and the calling thread
//! idles while its core could work. On a two-core virtual machine that made a [128, 256] x
//! [256, 256] product slower on two threads than on one (156 against 107 us); started from a pool
//! thread, the caller runs its own share and the other worker steals the rest (65 us). Python
//! calls every op from the interpreter's thread, and the Rust training and attack loops run there
//! too, so that thread joins the pool: the pool keeps its size (RAYON_NUM_THREADS or one thread per
//! CPU) and starts one thread fewer.

/// Makes the calling thread worker 0 of the global pool. Returns false (and changes nothing) when
/// the pool would have a single thread, or already exists (something used it first).
///
/// A one-thread pool is left alone: its only worker would be this thread, which runs pool jobs
/// only while it is inside a parallel call itself, so an op called from another thread would wait
/// forever while this one waits for that thread.
pub fn join_global_pool() -> bool {
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1);
    threads >= 2
        && rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .use_current_thread()
            .build_global()
            .is_ok()
}
