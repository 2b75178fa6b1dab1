//! CPU kernels. Each file holds the host implementation of one op family; ops in `crate::ops`
//! dispatch here for `Storage::Cpu`. Large loops split across rayon's pool.

pub mod attention;
pub mod bessel;
pub mod conv;
mod conv_output_grad;
pub mod copy;
pub mod cross_entropy;
pub mod elementwise;
pub mod fresh;
pub mod gamma_functions;
pub mod gemm;
pub mod norm;
pub mod normal_functions;
pub mod pool;
pub mod reduce;
pub(crate) mod relu;
pub mod rnn;
pub(crate) mod simd;
pub mod softmax;
pub mod special;
pub mod strided;
pub mod unfold;
pub mod workers;
pub mod zeta;

/// Element count above which a loop is split across threads (below it, thread hand-off costs more).
pub const PAR_THRESHOLD: usize = 1 << 18;
