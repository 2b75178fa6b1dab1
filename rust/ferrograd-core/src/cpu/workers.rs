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
/// the global pool already exists, e.g. because something used it first.
pub fn join_global_pool() -> bool {
    rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build_global()
        .is_ok()
}
