//! The per-parameter update kernels.

use rayon::prelude::*;

use super::optimizer::Algorithm;
use crate::cpu::simd::wide_fn;
use crate::cuda::optim::{update_list, ListItem};
use crate::{Error, Result, Tensor};

/// Elements per parallel task: large enough that a task outweighs its scheduling.
const CHUNK: usize = 1 << 16;

/// Errors unless `param` is contiguous at offset 0 and the gradient and every state buffer hold
/// as many elements, contiguously at offset 0 (what the update kernels of both devices index).
pub(crate) fn check_update_buffers(param: &Tensor, buffers: &[&Tensor]) -> Result<()> {
    const OP: &str = "optimizer step";
    let dense = |t: &Tensor| t.layout().is_contiguous() && t.layout().offset() == 0;
    if !dense(param) {
        return Err(Error::arg(
            OP,
            "param",
            "a contiguous parameter",
            "a strided view",
        ));
    }
    match buffers
        .iter()
        .find(|t| t.numel() != param.numel() || !dense(t))
    {
        Some(t) => Err(Error::shape(
            OP,
            format!(
                "buffer of shape {:?} for parameter {:?}",
                t.shape(),
                param.shape()
            ),
        )),
        None => Ok(()),
    }
}

/// Runs `f(index_range_start, param_chunk, grad_chunk, states...)` over aligned chunks of the
/// parameter, its gradient and up to three state buffers, in parallel.
fn for_chunks<const S: usize>(
    param: &Tensor,
    grad: &Tensor,
    states: [Option<&Tensor>; S],
    f: impl Fn(&mut [f32], &[f32], [Option<&mut [f32]>; S]) + Sync,
) -> Result<()> {
    const OP: &str = "optimizer step";
    let grad = grad.contiguous()?;
    let buffers: Vec<&Tensor> = std::iter::once(&grad)
        .chain(states.iter().flatten().copied())
        .collect();
    check_update_buffers(param, &buffers)?;
    let grad_guard = grad.storage()?;
    let g = grad_guard
        .f32s(OP)?
        .get(..grad.numel())
        .ok_or_else(|| Error::shape(OP, "gradient storage is too small"))?;
    let mut guards = Vec::new();
    for s in states.iter().flatten() {
        guards.push(s.storage_mut()?);
    }
    let mut pg = param.storage_mut()?;
    let p = crate::storage::Element::slice_mut(pg.cpu_mut(OP)?)
        .ok_or_else(|| Error::dtype(OP, "float32", param.dtype()))?;
    let mut state_slices: Vec<&mut [f32]> = Vec::new();
    for guard in guards.iter_mut() {
        let s = crate::storage::Element::slice_mut(guard.cpu_mut(OP)?)
            .ok_or_else(|| Error::dtype(OP, "float32", "another dtype"))?;
        state_slices.push(s);
    }
    // Split every state buffer into the same chunks as the parameter.
    let mut state_chunks: Vec<Vec<&mut [f32]>> = state_slices
        .into_iter()
        .map(|s| s.chunks_mut(CHUNK).collect())
        .collect();
    let n_chunks = p.len().div_ceil(CHUNK);
    let mut per_chunk: Vec<[Option<&mut [f32]>; S]> = (0..n_chunks)
        .map(|_| std::array::from_fn(|_| None))
        .collect();
    let mut which = 0;
    for (slot, present) in states.iter().enumerate() {
        if present.is_some() {
            for (c, chunk) in state_chunks[which].drain(..).enumerate() {
                per_chunk[c][slot] = Some(chunk);
            }
            which += 1;
        }
    }
    p.par_chunks_mut(CHUNK)
        .zip(g.par_chunks(CHUNK))
        .zip(per_chunk.into_par_iter())
        .for_each(|((pc, gc), sc)| f(pc, gc, sc));
    Ok(())
}

fn on_cuda(param: &Tensor) -> bool {
    matches!(param.device(), crate::Device::Cuda(_))
}

/// SGD's per-parameter constants: the share of the momentum buffer kept and of the new direction
/// taken (0 and 1 on the first step, when the buffer starts as the direction, as in PyTorch).
fn sgd_own(cfg: &SgdConfig, first_step: bool) -> [f32; 2] {
    if first_step {
        [0.0, 1.0]
    } else {
        [cfg.momentum, 1.0 - cfg.dampening]
    }
}

/// SGD's shared constants: lr, sign, weight decay, and the nesterov mix (d + momentum * b, or b).
fn sgd_shared(cfg: &SgdConfig) -> [f32; 5] {
    let sign = if cfg.maximize { -1.0 } else { 1.0 };
    let (from_d, from_b) = if cfg.nesterov {
        (1.0, cfg.momentum)
    } else {
        (0.0, 1.0)
    };
    [cfg.lr, sign, cfg.weight_decay, from_d, from_b]
}

/// Adam's per-parameter constants at 1-based `step`: the step size lr / (1 - b1^t) and
/// sqrt(1 - b2^t).
fn adam_own(cfg: &AdamConfig, step: u64) -> [f32; 2] {
    let bias1 = 1.0 - (cfg.beta1 as f64).powi(step as i32);
    let bias2_sqrt = (1.0 - (cfg.beta2 as f64).powi(step as i32)).sqrt() as f32;
    [(cfg.lr as f64 / bias1) as f32, bias2_sqrt]
}

/// Adam's shared constants: shrink and l2 (decoupled decay scales p, L2 decay adds wd * p to the
/// gradient; one of the two is a no-op), b1, b2, eps, sign.
fn adam_shared(cfg: &AdamConfig) -> [f32; 6] {
    let sign = if cfg.maximize { -1.0 } else { 1.0 };
    let (shrink, l2) = if cfg.decoupled_weight_decay {
        (1.0 - cfg.lr * cfg.weight_decay, 0.0)
    } else {
        (1.0, cfg.weight_decay)
    };
    [shrink, l2, cfg.beta1, cfg.beta2, cfg.eps, sign]
}

/// One parameter's SGD update for a fused CUDA launch.
pub(crate) fn sgd_item(
    param: &Tensor,
    grad: &Tensor,
    momentum_buffer: Option<&Tensor>,
    cfg: &SgdConfig,
    first_step: bool,
) -> ListItem {
    ListItem {
        param: param.clone(),
        grad: grad.clone(),
        states: [momentum_buffer.cloned(), None, None],
        own: sgd_own(cfg, first_step),
    }
}

/// One parameter's Adam update for a fused CUDA launch.
pub(crate) fn adam_item(
    param: &Tensor,
    grad: &Tensor,
    [exp_avg, exp_avg_sq]: [&Tensor; 2],
    max_exp_avg_sq: Option<&Tensor>,
    cfg: &AdamConfig,
    step: u64,
) -> ListItem {
    ListItem {
        param: param.clone(),
        grad: grad.clone(),
        states: [
            Some(exp_avg.clone()),
            Some(exp_avg_sq.clone()),
            max_exp_avg_sq.cloned(),
        ],
        own: adam_own(cfg, step),
    }
}

/// Updates every parameter of `items` (one algorithm, parameters on one GPU) in as few launches
/// as the fused list kernels allow.
pub(crate) fn fused_cuda_step(algorithm: &Algorithm, items: &[ListItem]) -> Result<()> {
    match algorithm {
        Algorithm::Sgd(cfg) => update_list("sgd_list_f32", items, &sgd_shared(cfg)),
        Algorithm::Adam(cfg) => update_list("adam_list_f32", items, &adam_shared(cfg)),
        Algorithm::Rmsprop(_) => Err(Error::NotImplemented(
            "RMSprop has no fused multi-tensor CUDA kernel; it updates one parameter per launch"
                .into(),
        )),
    }
}

/// SGD options (torch.optim.SGD).
#[derive(Clone, Copy, Debug)]
pub struct SgdConfig {
    pub lr: f32,
    pub momentum: f32,
    pub dampening: f32,
    pub weight_decay: f32,
    pub nesterov: bool,
    pub maximize: bool,
}

/// One SGD update; `momentum_buffer` is required when momentum != 0, and `first_step` makes the
/// buffer start as the gradient itself, as in PyTorch.
pub fn sgd_step(
    param: &Tensor,
    grad: &Tensor,
    momentum_buffer: Option<&Tensor>,
    cfg: SgdConfig,
    first_step: bool,
) -> Result<()> {
    if cfg.momentum != 0.0 && momentum_buffer.is_none() {
        return Err(Error::arg(
            "sgd",
            "momentum_buffer",
            "a state tensor when momentum != 0",
            "None",
        ));
    }
    if on_cuda(param) {
        let item = sgd_item(param, grad, momentum_buffer, &cfg, first_step);
        return fused_cuda_step(&Algorithm::Sgd(cfg), &[item]);
    }
    let ([keep, take], [_, sign, _, from_d, from_b]) =
        (sgd_own(&cfg, first_step), sgd_shared(&cfg));
    let constants = SgdChunk {
        lr: cfg.lr,
        weight_decay: cfg.weight_decay,
        sign,
        keep,
        take,
        from_d,
        from_b,
    };
    for_chunks(param, grad, [momentum_buffer], |p, g, [buf]| {
        sgd_chunk(p, g, buf, constants)
    })
}

/// SGD's constants for one parameter's update (see `sgd_own` and `sgd_shared`).
#[derive(Clone, Copy)]
struct SgdChunk {
    lr: f32,
    weight_decay: f32,
    sign: f32,
    keep: f32,
    take: f32,
    from_d: f32,
    from_b: f32,
}

wide_fn! {
    /// SGD over one chunk of a parameter, with its momentum buffer when there is one. Branches
    /// are decided once per chunk so each inner loop is straight-line and vectorises.
    fn sgd_chunk(p: &mut [f32], g: &[f32], buf: Option<&mut [f32]>, k: SgdChunk) {
        match buf {
            None => p
                .iter_mut()
                .zip(g)
                .for_each(|(p, &g)| *p -= k.lr * (k.sign * g + k.weight_decay * *p)),
            Some(b) => p
                .iter_mut()
                .zip(g)
                .zip(b.iter_mut())
                .for_each(|((p, &g), b)| {
                    let d = k.sign * g + k.weight_decay * *p;
                    *b = k.keep * *b + k.take * d;
                    *p -= k.lr * (k.from_d * d + k.from_b * *b);
                }),
        }
    }
}

/// Adam / AdamW options (torch.optim.Adam, torch.optim.AdamW with `decoupled_weight_decay`).
#[derive(Clone, Copy, Debug)]
pub struct AdamConfig {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub decoupled_weight_decay: bool,
    pub amsgrad: bool,
    pub maximize: bool,
}

/// One Adam update at 1-based `step`; `max_exp_avg_sq` is required with amsgrad.
pub fn adam_step(
    param: &Tensor,
    grad: &Tensor,
    exp_avg: &Tensor,
    exp_avg_sq: &Tensor,
    max_exp_avg_sq: Option<&Tensor>,
    step: u64,
    cfg: AdamConfig,
) -> Result<()> {
    if cfg.amsgrad && max_exp_avg_sq.is_none() {
        return Err(Error::arg(
            "adam",
            "max_exp_avg_sq",
            "a state tensor with amsgrad",
            "None",
        ));
    }
    if on_cuda(param) {
        let item = adam_item(
            param,
            grad,
            [exp_avg, exp_avg_sq],
            max_exp_avg_sq,
            &cfg,
            step,
        );
        return fused_cuda_step(&Algorithm::Adam(cfg), &[item]);
    }
    let ([step_size, bias2_sqrt], [shrink, l2, b1, b2, eps, sign]) =
        (adam_own(&cfg, step), adam_shared(&cfg));
    let constants = AdamChunk {
        step_size,
        bias2_sqrt,
        shrink,
        l2,
        b1,
        b2,
        eps,
        sign,
    };
    for_chunks(
        param,
        grad,
        [Some(exp_avg), Some(exp_avg_sq), max_exp_avg_sq],
        |p, g, [m, v, vmax]| {
            if let (Some(m), Some(v)) = (m, v) {
                adam_chunk(p, g, m, v, vmax, constants)
            }
        },
    )
}

/// Adam's constants for one parameter's update (see `adam_own` and `adam_shared`).
#[derive(Clone, Copy)]
struct AdamChunk {
    step_size: f32,
    bias2_sqrt: f32,
    shrink: f32,
    l2: f32,
    b1: f32,
    b2: f32,
    eps: f32,
    sign: f32,
}

wide_fn! {
    /// Adam over one chunk of a parameter and its moments (and the running maximum with
    /// amsgrad), in PyTorch's order of operations so each rounding matches.
    fn adam_chunk(
        p: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        vmax: Option<&mut [f32]>,
        k: AdamChunk,
    ) {
        let moments = p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut());
        match vmax {
            None => moments.for_each(|(((p, &g), m), v)| {
                let gi = k.sign * g + k.l2 * *p;
                *m += (gi - *m) * (1.0 - k.b1);
                *v = k.b2 * *v + (1.0 - k.b2) * gi * gi;
                *p = *p * k.shrink - k.step_size * *m / (v.sqrt() / k.bias2_sqrt + k.eps);
            }),
            Some(vmax) => moments
                .zip(vmax.iter_mut())
                .for_each(|((((p, &g), m), v), vm)| {
                    let gi = k.sign * g + k.l2 * *p;
                    *m += (gi - *m) * (1.0 - k.b1);
                    *v = k.b2 * *v + (1.0 - k.b2) * gi * gi;
                    *vm = vm.max(*v);
                    *p = *p * k.shrink - k.step_size * *m / (vm.sqrt() / k.bias2_sqrt + k.eps);
                }),
        }
    }
}

/// RMSprop options (torch.optim.RMSprop).
#[derive(Clone, Copy, Debug)]
pub struct RmspropConfig {
    pub lr: f32,
    pub alpha: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub momentum: f32,
    pub centered: bool,
    pub maximize: bool,
}

/// One RMSprop update; `grad_avg` is required when centered, `momentum_buffer` when momentum > 0.
pub fn rmsprop_step(
    param: &Tensor,
    grad: &Tensor,
    square_avg: &Tensor,
    grad_avg: Option<&Tensor>,
    momentum_buffer: Option<&Tensor>,
    cfg: RmspropConfig,
) -> Result<()> {
    if cfg.centered && grad_avg.is_none() {
        return Err(Error::arg(
            "rmsprop",
            "grad_avg",
            "a state tensor when centered",
            "None",
        ));
    }
    if cfg.momentum > 0.0 && momentum_buffer.is_none() {
        return Err(Error::arg(
            "rmsprop",
            "momentum_buffer",
            "a state tensor when momentum > 0",
            "None",
        ));
    }
    if on_cuda(param) {
        let kernel = match (grad_avg.is_some(), momentum_buffer.is_some()) {
            (false, false) => "rmsprop_f32",
            (true, false) => "rmsprop_centered_f32",
            (false, true) => "rmsprop_momentum_f32",
            (true, true) => "rmsprop_centered_momentum_f32",
        };
        let sign = if cfg.maximize { -1.0 } else { 1.0 };
        let states: Vec<&Tensor> = std::iter::once(square_avg)
            .chain(grad_avg)
            .chain(momentum_buffer)
            .collect();
        let scalars = [
            cfg.lr,
            cfg.alpha,
            cfg.eps,
            cfg.weight_decay,
            cfg.momentum,
            sign,
        ];
        return crate::cuda::optim::update(kernel, param, grad, &states, &scalars);
    }
    for_chunks(
        param,
        grad,
        [Some(square_avg), grad_avg, momentum_buffer],
        |p, g, [sq, ga, buf]| {
            if let Some(sq) = sq {
                rmsprop_chunk(p, g, sq, ga, buf, cfg)
            }
        },
    )
}

wide_fn! {
    /// RMSprop over one chunk of a parameter, its square average and the optional centred
    /// average and momentum buffer.
    fn rmsprop_chunk(
        p: &mut [f32],
        g: &[f32],
        sq: &mut [f32],
        ga: Option<&mut [f32]>,
        buf: Option<&mut [f32]>,
        cfg: RmspropConfig,
    ) {
        let (mut ga, mut buf) = (ga, buf);
        for i in 0..p.len() {
            let gi = if cfg.maximize { -g[i] } else { g[i] } + cfg.weight_decay * p[i];
            sq[i] = cfg.alpha * sq[i] + (1.0 - cfg.alpha) * gi * gi;
            let avg = match ga.as_deref_mut() {
                Some(a) => {
                    a[i] = cfg.alpha * a[i] + (1.0 - cfg.alpha) * gi;
                    (sq[i] - a[i] * a[i]).sqrt() + cfg.eps
                }
                None => sq[i].sqrt() + cfg.eps,
            };
            match buf.as_deref_mut() {
                Some(b) => {
                    b[i] = cfg.momentum * b[i] + gi / avg;
                    p[i] -= cfg.lr * b[i];
                }
                None => p[i] -= cfg.lr * gi / avg,
            }
        }
    }
}
