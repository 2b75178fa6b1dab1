//! The per-parameter update kernels.

use std::collections::HashSet;
use std::sync::RwLockWriteGuard;

use rayon::prelude::*;

use super::adadelta_rprop::{adadelta_chunk, rprop_chunk};
use super::adagrad::adagrad_chunk;
use super::adam_variants::{adamax_chunk, radam_chunk, radam_shared};
use super::algorithm::FusedRule;
use super::arith::{add, addcdiv, addcmul, decayed_grad, lerp, nan_max, single};
use super::asgd::asgd_chunk;
use super::nadam::{nadam_chunk, nadam_shared};
use crate::cpu::simd::wide_fn;
use crate::cuda::optim::{update_list, ListItem};
use crate::{Error, Result, Storage, Tensor};

/// Elements per parallel task: large enough that a task outweighs its scheduling, small enough
/// that a parameter of a few hundred thousand elements spreads over every thread.
const CHUNK: usize = 1 << 13;

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

/// One chunk of one parameter's update: the parameter's elements, its gradient's, its state
/// buffers' (in the algorithm's order, absent ones `None`) and its per-parameter constants.
type Task<'a> = (
    &'a mut [f32],
    &'a [f32],
    [Option<&'a mut [f32]>; 3],
    [f32; 3],
);

/// Runs `f` over every element of every parameter of `items` (all on the CPU) in one parallel
/// pass: each parameter is cut into one slice per thread and each slice into chunks of `CHUNK`
/// elements, and the chunks of all parameters share the threads. A step is then one fork-join
/// however many parameters it updates, and a parameter of a few chunks still spreads over every
/// thread (one task per 64k-element parameter, as before, left the MLP's second layer on one
/// thread). Each element's update depends on that element alone, so the split changes no value.
fn cpu_update_list(items: &[ListItem], f: impl Fn(Task) + Sync) -> Result<()> {
    const OP: &str = "optimizer step";
    let grads = items
        .iter()
        .map(|it| it.grad.contiguous())
        .collect::<Result<Vec<_>>>()?;
    check_distinct_buffers(items, &grads)?;
    let grad_guards = grads
        .iter()
        .map(|g| g.storage())
        .collect::<Result<Vec<_>>>()?;
    let mut param_guards = items
        .iter()
        .map(|it| it.param.storage_mut())
        .collect::<Result<Vec<_>>>()?;
    let mut state_guards = Vec::with_capacity(items.len());
    for it in items {
        let mut guards: [Option<RwLockWriteGuard<'_, Storage>>; 3] = [None, None, None];
        for (guard, state) in guards.iter_mut().zip(&it.states) {
            *guard = state.as_ref().map(|s| s.storage_mut()).transpose()?;
        }
        state_guards.push(guards);
    }
    // Thread t's share of the work is the t-th slice of every parameter: the one its block of
    // the next forward product reads, as `cpu::gemm` splits a linear layer's output features
    // between threads in order. Listing the slices in thread order lets rayon's halving hand
    // each thread its own (stealing still balances the rest).
    let threads = rayon::current_num_threads().max(1);
    let mut shares: Vec<Vec<Task>> = (0..threads).map(|_| Vec::new()).collect();
    let per_param = items
        .iter()
        .zip(&grad_guards)
        .zip(param_guards.iter_mut().zip(state_guards.iter_mut()));
    for ((it, grad), (param, states)) in per_param {
        let n = it.param.numel();
        let slice = n.div_ceil(threads).max(1);
        let short = || Error::shape(OP, "a buffer's storage is smaller than its parameter");
        let g = grad.f32s(OP)?.get(..n).ok_or_else(short)?;
        let p = f32s_mut(param)?.get_mut(..n).ok_or_else(short)?;
        let mut state_slices: [Option<std::slice::ChunksMut<'_, f32>>; 3] = [None, None, None];
        for (slices, guard) in state_slices.iter_mut().zip(states.iter_mut()) {
            if let Some(guard) = guard {
                let s = f32s_mut(guard)?.get_mut(..n).ok_or_else(short)?;
                *slices = Some(s.chunks_mut(slice));
            }
        }
        let slices = p.chunks_mut(slice).zip(g.chunks(slice));
        for (share, (ps, gs)) in shares.iter_mut().zip(slices) {
            let mut ss = state_slices.each_mut().map(|c| {
                c.as_mut()
                    .and_then(|c| c.next())
                    .map(|s| s.chunks_mut(CHUNK))
            });
            for (pc, gc) in ps.chunks_mut(CHUNK).zip(gs.chunks(CHUNK)) {
                let sc = ss.each_mut().map(|c| c.as_mut().and_then(|c| c.next()));
                share.push((pc, gc, sc, it.own));
            }
        }
    }
    let tasks: Vec<Task> = shares.into_iter().flatten().collect();
    tasks.into_par_iter().for_each(&f);
    Ok(())
}

/// Errors unless every parameter and state buffer of `items` is its own storage, and no gradient
/// shares one with them: the update holds all of them locked at once, and a buffer written twice
/// (or written and read) would wait on itself.
fn check_distinct_buffers(items: &[ListItem], grads: &[Tensor]) -> Result<()> {
    let mut written = HashSet::new();
    for it in items {
        for t in std::iter::once(&it.param).chain(it.states.iter().flatten()) {
            if !written.insert(t.storage_id()) {
                return Err(Error::arg(
                    "optimizer step",
                    "params",
                    "each parameter once, each with its own state buffers",
                    format!("a buffer of shape {:?} twice", t.shape()),
                ));
            }
        }
    }
    match grads.iter().find(|g| written.contains(&g.storage_id())) {
        Some(g) => Err(Error::arg(
            "optimizer step",
            "grad",
            "a gradient apart from every parameter and state buffer",
            format!(
                "a gradient of shape {:?} sharing a parameter's storage",
                g.shape()
            ),
        )),
        None => Ok(()),
    }
}

fn f32s_mut<'a>(guard: &'a mut RwLockWriteGuard<'_, Storage>) -> Result<&'a mut [f32]> {
    let cpu = guard.cpu_mut("optimizer step")?;
    let dtype = cpu.dtype();
    crate::storage::Element::slice_mut(cpu)
        .ok_or_else(|| Error::dtype("optimizer step", "float32", dtype))
}

/// Updates every parameter of `items` (one algorithm, all on one device): on the CPU in one
/// parallel pass, on a GPU in as few launches as the fused list kernels allow.
pub(crate) fn step_items(rule: &FusedRule, items: &[ListItem]) -> Result<()> {
    let Some(first) = items.first() else {
        return Ok(());
    };
    if on_cuda(&first.param) {
        return match rule {
            FusedRule::Sgd(cfg) => update_list("sgd_list_f32", items, &sgd_shared(cfg)),
            FusedRule::Adam(cfg) => update_list("adam_list_f32", items, &adam_shared(cfg)),
            FusedRule::Rmsprop(cfg) => items.iter().try_for_each(|it| rmsprop_cuda(it, cfg)),
            FusedRule::Adagrad(cfg) => update_list("adagrad_list_f32", items, &cfg.shared()),
            FusedRule::Adamax(cfg) => update_list("adamax_list_f32", items, &cfg.shared()),
            FusedRule::Radam(cfg) => update_list("radam_list_f32", items, &radam_shared(cfg)),
            FusedRule::Nadam(cfg) => update_list("nadam_list_f32", items, &nadam_shared(cfg)),
            FusedRule::Adadelta(cfg) => update_list("adadelta_list_f32", items, &cfg.shared()),
            FusedRule::Rprop(cfg) => update_list("rprop_list_f32", items, &cfg.shared()),
            FusedRule::Asgd(cfg) => update_list("asgd_list_f32", items, &cfg.shared()),
        };
    }
    match *rule {
        FusedRule::Sgd(cfg) => {
            let [neg_lr, sign, weight_decay, momentum, nesterov] = sgd_shared(&cfg);
            cpu_update_list(items, |(p, g, [buf, ..], [keep, take, first])| {
                let k = SgdChunk {
                    neg_lr,
                    weight_decay,
                    sign,
                    momentum,
                    nesterov: nesterov != 0.0,
                    keep,
                    take,
                    first: first != 0.0,
                };
                sgd_chunk(p, g, buf, k)
            })
        }
        FusedRule::Adam(cfg) => {
            let [shrink, l2, w1, b2, w2, eps, sign] = adam_shared(&cfg);
            cpu_update_list(
                items,
                |(p, g, [m, v, vmax], [neg_step_size, bias2_sqrt, _])| {
                    let k = AdamChunk {
                        neg_step_size,
                        bias2_sqrt,
                        shrink,
                        eps,
                        rule: MomentRule {
                            sign,
                            l2,
                            w1,
                            b2,
                            w2,
                        },
                    };
                    if let (Some(m), Some(v)) = (m, v) {
                        adam_chunk(p, g, m, v, vmax, k)
                    }
                },
            )
        }
        FusedRule::Rmsprop(cfg) => {
            let k = RmspropChunk::of(&cfg);
            cpu_update_list(items, |(p, g, [sq, ga, buf], _)| {
                if let Some(sq) = sq {
                    rmsprop_chunk(p, g, sq, ga, buf, k)
                }
            })
        }
        FusedRule::Adagrad(cfg) => {
            let shared = cfg.shared();
            cpu_update_list(items, |(p, g, [sum, ..], [step_lr, ..])| {
                if let Some(sum) = sum {
                    adagrad_chunk(p, g, sum, step_lr, shared)
                }
            })
        }
        FusedRule::Adamax(cfg) => {
            let shared = cfg.shared();
            cpu_update_list(items, |(p, g, [m, u, _], [step_size, ..])| {
                if let (Some(m), Some(u)) = (m, u) {
                    adamax_chunk(p, g, m, u, step_size, shared)
                }
            })
        }
        FusedRule::Radam(cfg) => {
            let shared = radam_shared(&cfg);
            cpu_update_list(items, |(p, g, [m, v, _], own)| {
                if let (Some(m), Some(v)) = (m, v) {
                    radam_chunk(p, g, m, v, own, shared)
                }
            })
        }
        FusedRule::Nadam(cfg) => {
            let shared = nadam_shared(&cfg);
            cpu_update_list(items, |(p, g, [m, v, _], own)| {
                if let (Some(m), Some(v)) = (m, v) {
                    nadam_chunk(p, g, m, v, own, shared)
                }
            })
        }
        FusedRule::Adadelta(cfg) => {
            let shared = cfg.shared();
            cpu_update_list(items, |(p, g, [s, a, _], _)| {
                if let (Some(s), Some(a)) = (s, a) {
                    adadelta_chunk(p, g, s, a, shared)
                }
            })
        }
        FusedRule::Rprop(cfg) => {
            let shared = cfg.shared();
            cpu_update_list(items, |(p, g, [prev, step, _], _)| {
                if let (Some(prev), Some(step)) = (prev, step) {
                    rprop_chunk(p, g, prev, step, shared)
                }
            })
        }
        FusedRule::Asgd(cfg) => {
            let shared = cfg.shared();
            cpu_update_list(items, |(p, g, [ax, ..], own)| {
                if let Some(ax) = ax {
                    asgd_chunk(p, g, ax, own, shared)
                }
            })
        }
    }
}

fn on_cuda(param: &Tensor) -> bool {
    matches!(param.device(), crate::Device::Cuda(_))
}

/// SGD's per-parameter constants: the momentum buffer's factor and the new direction's weight
/// (`buf.mul_(momentum).add_(d, alpha=1 - dampening)`), and 1 on the first step, when the buffer
/// starts as the direction itself, as in PyTorch.
fn sgd_own(cfg: &SgdConfig, first_step: bool) -> [f32; 3] {
    [
        single(cfg.momentum),
        single(1.0 - cfg.dampening),
        if first_step { 1.0 } else { 0.0 },
    ]
}

/// SGD's shared constants: -lr, sign, weight decay, momentum, and 1 for Nesterov's direction
/// (d + momentum * buf) or 0 for the buffer alone.
fn sgd_shared(cfg: &SgdConfig) -> [f32; 5] {
    let sign = if cfg.maximize { -1.0 } else { 1.0 };
    let nesterov = if cfg.nesterov { 1.0 } else { 0.0 };
    [
        single(-cfg.lr),
        sign,
        single(cfg.weight_decay),
        single(cfg.momentum),
        nesterov,
    ]
}

/// `base ** exponent` as Python's float power computes it (the C library's `pow`).
pub(crate) fn py_pow(base: f64, exponent: f64) -> f64 {
    base.powf(exponent)
}

/// Adam's per-parameter constants at 1-based `step`: -lr / (1 - b1^t) and sqrt(1 - b2^t), from
/// the double-precision options as PyTorch's Python arithmetic computes them.
fn adam_own(cfg: &AdamConfig, step: u64) -> [f32; 3] {
    let t = step as f64;
    let bias1 = 1.0 - py_pow(cfg.beta1, t);
    let bias2 = 1.0 - py_pow(cfg.beta2, t);
    [single(-(cfg.lr / bias1)), single(py_pow(bias2, 0.5)), 0.0]
}

/// Adam's shared constants: shrink and l2 (decoupled decay scales p by 1 - lr wd, L2 decay adds
/// wd * p to the gradient; one of the two is a no-op), 1 - b1, b2, 1 - b2, eps, sign.
pub(crate) fn adam_shared(cfg: &AdamConfig) -> [f32; 7] {
    let sign = if cfg.maximize { -1.0 } else { 1.0 };
    let (shrink, l2) = if cfg.decoupled_weight_decay {
        (single(1.0 - cfg.lr * cfg.weight_decay), 0.0)
    } else {
        (1.0, single(cfg.weight_decay))
    };
    [
        shrink,
        l2,
        single(1.0 - cfg.beta1),
        single(cfg.beta2),
        single(1.0 - cfg.beta2),
        single(cfg.eps),
        sign,
    ]
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

/// SGD options (torch.optim.SGD), in double precision as the user gave them (see `arith`).
#[derive(Clone, Copy, Debug)]
pub struct SgdConfig {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
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
    let item = sgd_item(param, grad, momentum_buffer, &cfg, first_step);
    step_items(&FusedRule::Sgd(cfg), &[item])
}

/// SGD's constants for one parameter's update (see `sgd_own` and `sgd_shared`).
#[derive(Clone, Copy)]
struct SgdChunk {
    neg_lr: f32,
    weight_decay: f32,
    sign: f32,
    momentum: f32,
    nesterov: bool,
    keep: f32,
    take: f32,
    first: bool,
}

wide_fn! {
    /// SGD over one chunk of a parameter, with its momentum buffer when there is one, in
    /// PyTorch's ops: d = g.add(p, alpha=wd); buf.mul_(momentum).add_(d, alpha=1 - dampening);
    /// d.add(buf, alpha=momentum) for Nesterov; p.add_(d, alpha=-lr).
    fn sgd_chunk(p: &mut [f32], g: &[f32], buf: Option<&mut [f32]>, k: SgdChunk) {
        match buf {
            None => p.iter_mut().zip(g).for_each(|(p, &g)| {
                let d = decayed_grad(g, *p, k.sign, k.weight_decay);
                *p = add(*p, d, k.neg_lr);
            }),
            Some(b) => p
                .iter_mut()
                .zip(g)
                .zip(b.iter_mut())
                .for_each(|((p, &g), b)| {
                    let d = decayed_grad(g, *p, k.sign, k.weight_decay);
                    *b = if k.first { d } else { add(*b * k.keep, d, k.take) };
                    let direction = if k.nesterov { add(d, *b, k.momentum) } else { *b };
                    *p = add(*p, direction, k.neg_lr);
                }),
        }
    }
}

/// Adam / AdamW options (torch.optim.Adam, torch.optim.AdamW with `decoupled_weight_decay`), in
/// double precision as the user gave them.
#[derive(Clone, Copy, Debug)]
pub struct AdamConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub decoupled_weight_decay: bool,
    pub amsgrad: bool,
    pub maximize: bool,
}

#[cfg(test)]
impl AdamConfig {
    /// PyTorch's defaults (betas 0.9 and 0.999, eps 1e-8, no decay) with learning rate `lr`.
    pub(crate) fn defaults(lr: f64) -> AdamConfig {
        AdamConfig {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            amsgrad: false,
            maximize: false,
        }
    }
}

/// The float32 constants of Adam's moment update (see `adam_moments`): the gradient's sign, the
/// L2 decay, 1 - b1, b2 and 1 - b2.
#[derive(Clone, Copy)]
pub(crate) struct MomentRule {
    pub sign: f32,
    pub l2: f32,
    pub w1: f32,
    pub b2: f32,
    pub w2: f32,
}

/// Adam's moment update of one element, shared by Adam, RAdam and NAdam, in PyTorch's ops:
/// g = g.add(p, alpha=wd); m.lerp_(g, 1 - b1); v.mul_(b2).addcmul_(g, g, value=1 - b2).
/// Returns the gradient used.
#[inline(always)]
pub(crate) fn adam_moments(p: f32, g: f32, m: &mut f32, v: &mut f32, rule: MomentRule) -> f32 {
    let gi = decayed_grad(g, p, rule.sign, rule.l2);
    *m = lerp(*m, gi, rule.w1);
    *v = addcmul(*v * rule.b2, gi, gi, rule.w2);
    gi
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
    let item = adam_item(
        param,
        grad,
        [exp_avg, exp_avg_sq],
        max_exp_avg_sq,
        &cfg,
        step,
    );
    step_items(&FusedRule::Adam(cfg), &[item])
}

/// Adam's constants for one parameter's update (see `adam_own` and `adam_shared`).
#[derive(Clone, Copy)]
struct AdamChunk {
    neg_step_size: f32,
    bias2_sqrt: f32,
    shrink: f32,
    eps: f32,
    rule: MomentRule,
}

wide_fn! {
    /// Adam over one chunk of a parameter and its moments (and the running maximum with
    /// amsgrad), in PyTorch's ops: p.mul_(1 - lr wd) (decoupled decay), the moments,
    /// denom = (v.sqrt() / sqrt(1 - b2^t)).add_(eps), p.addcdiv_(m, denom, value=-step_size).
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
                adam_moments(*p, g, m, v, k.rule);
                let denom = v.sqrt() / k.bias2_sqrt + k.eps;
                *p = addcdiv(*p * k.shrink, *m, denom, k.neg_step_size);
            }),
            Some(vmax) => moments
                .zip(vmax.iter_mut())
                .for_each(|((((p, &g), m), v), vm)| {
                    adam_moments(*p, g, m, v, k.rule);
                    *vm = nan_max(*vm, *v);
                    let denom = vm.sqrt() / k.bias2_sqrt + k.eps;
                    *p = addcdiv(*p * k.shrink, *m, denom, k.neg_step_size);
                }),
        }
    }
}

/// RMSprop options (torch.optim.RMSprop), in double precision as the user gave them.
#[derive(Clone, Copy, Debug)]
pub struct RmspropConfig {
    pub lr: f64,
    pub alpha: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub momentum: f64,
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
    let item = rmsprop_item(param, grad, square_avg, grad_avg, momentum_buffer);
    step_items(&FusedRule::Rmsprop(cfg), &[item])
}

/// One parameter's RMSprop update for `step_items`: the state buffers in `rmsprop_chunk`'s order
/// (square average, centred average, momentum buffer); RMSprop has no per-parameter constants.
pub(crate) fn rmsprop_item(
    param: &Tensor,
    grad: &Tensor,
    square_avg: &Tensor,
    grad_avg: Option<&Tensor>,
    momentum_buffer: Option<&Tensor>,
) -> ListItem {
    ListItem {
        param: param.clone(),
        grad: grad.clone(),
        states: [
            Some(square_avg.clone()),
            grad_avg.cloned(),
            momentum_buffer.cloned(),
        ],
        own: [0.0; 3],
    }
}

/// One RMSprop update on a GPU: RMSprop has no fused list kernel, so one launch per parameter.
fn rmsprop_cuda(item: &ListItem, cfg: &RmspropConfig) -> Result<()> {
    let [square_avg, grad_avg, momentum_buffer] = &item.states;
    let kernel = match (grad_avg.is_some(), momentum_buffer.is_some()) {
        (false, false) => "rmsprop_f32",
        (true, false) => "rmsprop_centered_f32",
        (false, true) => "rmsprop_momentum_f32",
        (true, true) => "rmsprop_centered_momentum_f32",
    };
    let states: Vec<&Tensor> = [square_avg, grad_avg, momentum_buffer]
        .into_iter()
        .flatten()
        .collect();
    let k = RmspropChunk::of(cfg);
    let scalars = [
        k.neg_lr,
        k.alpha,
        k.w,
        k.eps,
        k.weight_decay,
        k.momentum,
        k.sign,
    ];
    crate::cuda::optim::update(kernel, &item.param, &item.grad, &states, &scalars)
}

/// RMSprop's float32 constants: -lr, alpha, 1 - alpha, eps, weight decay, momentum, sign.
#[derive(Clone, Copy)]
struct RmspropChunk {
    neg_lr: f32,
    alpha: f32,
    w: f32,
    eps: f32,
    weight_decay: f32,
    momentum: f32,
    sign: f32,
}

impl RmspropChunk {
    fn of(cfg: &RmspropConfig) -> RmspropChunk {
        RmspropChunk {
            neg_lr: single(-cfg.lr),
            alpha: single(cfg.alpha),
            w: single(1.0 - cfg.alpha),
            eps: single(cfg.eps),
            weight_decay: single(cfg.weight_decay),
            momentum: single(cfg.momentum),
            sign: if cfg.maximize { -1.0 } else { 1.0 },
        }
    }
}

wide_fn! {
    /// RMSprop over one chunk of a parameter, its square average and the optional centred
    /// average and momentum buffer, in PyTorch's ops: sq.mul_(alpha).addcmul_(g, g, value=1 -
    /// alpha); ga.lerp_(g, 1 - alpha) and avg = sq.addcmul(ga, ga, value=-1).sqrt_() when
    /// centred; avg.add_(eps); then buf.mul_(momentum).addcdiv_(g, avg) and p.add_(buf,
    /// alpha=-lr), or p.addcdiv_(g, avg, value=-lr).
    fn rmsprop_chunk(
        p: &mut [f32],
        g: &[f32],
        sq: &mut [f32],
        ga: Option<&mut [f32]>,
        buf: Option<&mut [f32]>,
        k: RmspropChunk,
    ) {
        let (mut ga, mut buf) = (ga, buf);
        for i in 0..p.len() {
            let gi = decayed_grad(g[i], p[i], k.sign, k.weight_decay);
            sq[i] = addcmul(sq[i] * k.alpha, gi, gi, k.w);
            let avg = match ga.as_deref_mut() {
                Some(a) => {
                    a[i] = lerp(a[i], gi, k.w);
                    addcmul(sq[i], a[i], a[i], -1.0).sqrt() + k.eps
                }
                None => sq[i].sqrt() + k.eps,
            };
            match buf.as_deref_mut() {
                Some(b) => {
                    b[i] = addcdiv(b[i] * k.momentum, gi, avg, 1.0);
                    p[i] = add(p[i], b[i], k.neg_lr);
                }
                None => p[i] = addcdiv(p[i], gi, avg, k.neg_lr),
            }
        }
    }
}
