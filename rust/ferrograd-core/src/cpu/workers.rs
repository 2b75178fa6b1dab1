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
//!
//! The other workers are then kept awake between ops (`keep_warm`). A training step spends tens
//! of microseconds in Python between ops; a rayon worker idle that long goes to sleep, and waking
//! a sleeping virtual CPU took longer than a small product saves by splitting: measured on two
//! cores, a [128, 256] x [256, 256] product run after a few single-threaded ops took 119 us
//! (104 us on one thread, 55 us back to back). So after each op the helpers spin, ready to
//! steal, for `FERROGRAD_SPIN_US` microseconds (default 1000; 0 turns this off), as OpenMP
//! runtimes spin before sleeping. That took the MLP training step of `benches/train_step.py`
//! from about 1.3 to 0.8 ms.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// Makes the calling thread worker 0 of the global pool. Returns false (and changes nothing) when
/// the pool would have a single thread, or already exists (something used it first).
///
/// A one-thread pool is left alone: its only worker would be this thread, which runs pool jobs
/// only while it is inside a parallel call itself, so an op called from another thread would wait
/// forever while this one waits for that thread.
pub fn join_global_pool() -> bool {
    let threads = env_number("RAYON_NUM_THREADS")
        .filter(|&n| n > 0)
        .or_else(|| {
            std::thread::available_parallelism()
                .ok()
                .map(|n| n.get() as u64)
        })
        .unwrap_or(1) as usize;
    let joined = threads >= 2
        && rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .use_current_thread()
            .build_global()
            .is_ok();
    let spin_ns = env_number("FERROGRAD_SPIN_US").unwrap_or(DEFAULT_SPIN_US) * 1000;
    if joined && spin_ns > 0 {
        SPIN_NS.store(spin_ns, Ordering::Relaxed);
        HELPERS.store(threads - 1, Ordering::Relaxed);
    }
    joined
}

/// Threads in the global pool (the interpreter's thread included once it has joined).
pub fn pool_threads() -> usize {
    rayon::current_num_threads()
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// How long helpers spin after the last op unless `FERROGRAD_SPIN_US` says otherwise.
const DEFAULT_SPIN_US: u64 = 1000;

/// Workers besides the interpreter's thread that `keep_warm` keeps awake (0: none, the default
/// until the interpreter's thread has joined the pool).
static HELPERS: AtomicUsize = AtomicUsize::new(0);
/// How long helpers spin after the last op, in nanoseconds.
static SPIN_NS: AtomicU64 = AtomicU64::new(0);
/// Helpers spinning now, or about to.
static SPINNING: AtomicUsize = AtomicUsize::new(0);
/// When the last op finished, in nanoseconds on `now_ns`'s clock.
static LAST_OP: AtomicU64 = AtomicU64::new(0);

/// Nanoseconds since the first call.
fn now_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Notes that an op has just finished and, if the helpers are not already spinning, sets them
/// spinning (see the module notes). Cheap when they are: a clock read and two atomics.
pub fn keep_warm() {
    let helpers = HELPERS.load(Ordering::Relaxed);
    if helpers == 0 {
        return;
    }
    LAST_OP.store(now_ns(), Ordering::Relaxed);
    if SPINNING.load(Ordering::Relaxed) == 0
        && SPINNING
            .compare_exchange(0, helpers, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        // One job per worker; the interpreter's thread (worker 0) drops its copy when it next
        // looks for work inside a parallel call.
        rayon::spawn_broadcast(|ctx| {
            if ctx.index() != 0 {
                spin_until_idle();
                SPINNING.fetch_sub(1, Ordering::AcqRel);
            }
        });
    }
}

/// Runs whatever pool work appears (stolen halves of the next op's loops) until no op has
/// finished for `SPIN_NS`.
fn spin_until_idle() {
    let spin_ns = SPIN_NS.load(Ordering::Relaxed);
    loop {
        match rayon::yield_now() {
            Some(rayon::Yield::Executed) => continue,
            Some(rayon::Yield::Idle) => {}
            None => return,
        }
        if now_ns().saturating_sub(LAST_OP.load(Ordering::Relaxed)) > spin_ns {
            return;
        }
        std::hint::spin_loop();
    }
}
