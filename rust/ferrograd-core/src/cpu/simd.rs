//! Runtime selection of vector instruction sets for hot loops.
//!
//! The crate is compiled for the baseline x86-64 target (SSE2), so a wheel or a carried build runs
//! on any x86-64 CPU. SSE2 has no vector blend, so a loop that selects between two values per
//! element compiles to a branch per element, and its loops run four lanes wide. A function written
//! with `wide_fn!` is compiled twice: once for AVX2 + FMA, called when the running CPU has them
//! (checked once and cached by the standard library), and once for the baseline.

/// Defines `fn $name($args) -> $ret` whose body runs compiled for AVX2 + FMA when available.
macro_rules! wide_fn {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn wide($($arg: $ty),*) $(-> $ret)? {
                body($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: the running CPU supports the features `wide` is compiled for.
                return unsafe { wide($($arg),*) };
            }
            body($($arg),*)
        }
    };
}
pub(crate) use wide_fn;
