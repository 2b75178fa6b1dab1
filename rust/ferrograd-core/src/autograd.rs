//! Define-by-run reverse-mode autograd. Each op that sees an input requiring grad records a
//! [`Node`]: its inputs and a closure mapping the output's gradient to the inputs' gradients.
//! `backward` orders the graph topologically and walks it once, accumulating into leaves' `.grad`
//! (and non-leaves' that retain it), after each tensor's gradient hooks (`grad_hooks.rs`).
//! With `create_graph`, the walk records its own ops, so gradients can be differentiated again
//! (`double_backward.rs` says which ops' backward passes support that).

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use crate::{Error, Result, Tensor};

/// Maps the gradient of an op's output to the gradients of its inputs (None: no gradient).
pub type BackwardFn = Box<dyn Fn(&Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync>;

/// One recorded op on the tape.
pub struct Node {
    pub name: &'static str,
    pub inputs: Vec<Tensor>,
    pub backward: BackwardFn,
}

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops record the tape on this thread.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Turns grad mode on or off on this thread; returns the previous mode.
pub fn set_grad_enabled(on: bool) -> bool {
    GRAD_ENABLED.with(|g| g.replace(on))
}

/// Disables the tape until dropped (restores the previous mode).
pub struct NoGradGuard {
    previous: bool,
}

impl NoGradGuard {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NoGradGuard {
            previous: set_grad_enabled(false),
        }
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.previous);
    }
}

/// A node for `inputs` when grad mode is on and any input requires grad.
pub(crate) fn record(name: &'static str, inputs: &[&Tensor], backward: BackwardFn) -> Option<Node> {
    if !is_grad_enabled() || !inputs.iter().any(|t| t.requires_grad()) {
        return None;
    }
    Some(Node {
        name,
        inputs: inputs.iter().map(|t| (*t).clone()).collect(),
        backward,
    })
}

/// Tensors reachable from `root` through nodes, in an order where each comes after its consumers;
/// the history of tensors in `leaves` is not followed.
fn reverse_topological(root: &Tensor, leaves: Option<&HashSet<usize>>) -> Vec<Tensor> {
    let mut order = Vec::new();
    let mut visited = HashSet::new();
    // Iterative post-order DFS: deep graphs (long RNN unrolls) must not overflow the stack.
    let mut stack: Vec<(Tensor, bool)> = vec![(root.clone(), false)];
    while let Some((t, expanded)) = stack.pop() {
        if expanded {
            order.push(t);
            continue;
        }
        if !visited.insert(t.id()) {
            continue;
        }
        stack.push((t.clone(), true));
        if leaves.is_some_and(|l| l.contains(&t.id())) {
            continue;
        }
        if let Some(node) = t.node() {
            for input in &node.inputs {
                if input.requires_grad() && !visited.contains(&input.id()) {
                    stack.push((input.clone(), false));
                }
            }
        }
    }
    order.reverse();
    order
}

/// Back-propagates from `root`, accumulating into the `.grad` of every leaf that requires grad.
pub fn backward(root: &Tensor, grad: Option<Tensor>) -> Result<()> {
    backward_with(root, grad, false)
}

/// `backward`; with `create_graph` the gradients stored in `.grad` keep their own graph.
pub fn backward_with(root: &Tensor, grad: Option<Tensor>, create_graph: bool) -> Result<()> {
    run_backward(root, grad, Walk::accumulating(create_graph)).map(|_| ())
}

/// Gradients of `output` (a one-element tensor) with respect to `inputs`; no `.grad` is touched.
/// Attacks and saliency use this: gradients w.r.t. the input without disturbing the parameters.
pub fn grad(output: &Tensor, inputs: &[Tensor]) -> Result<Vec<Option<Tensor>>> {
    grad_with(output, inputs, false)
}

/// `grad`; with `create_graph` the returned gradients keep their graph, so a penalty on them
/// (a gradient norm, an input-gradient alignment) back-propagates to what they depend on.
pub fn grad_with(
    output: &Tensor,
    inputs: &[Tensor],
    create_graph: bool,
) -> Result<Vec<Option<Tensor>>> {
    let targets: HashSet<usize> = inputs.iter().map(|t| t.id()).collect();
    let mut found = run_backward(output, None, Walk::to(&targets, create_graph, false))?;
    Ok(inputs.iter().map(|t| found.remove(&t.id())).collect())
}

/// The recorded gradients of `output` (seeded with `seed`) with respect to `inputs`, each treated
/// as a leaf: the partial derivatives an op composed of `inputs` passes back. Fused ops whose
/// backward is a raw kernel use this in create_graph walks (see `double_backward::recomposed`).
pub(crate) fn recorded_partials(
    output: &Tensor,
    seed: &Tensor,
    inputs: &[Tensor],
) -> Result<Vec<Option<Tensor>>> {
    if !output.requires_grad() {
        return Ok(vec![None; inputs.len()]);
    }
    let targets: HashSet<usize> = inputs.iter().map(|t| t.id()).collect();
    let mut found = run_backward(output, Some(seed.clone()), Walk::to(&targets, true, true))?;
    Ok(inputs.iter().map(|t| found.remove(&t.id())).collect())
}

/// What a backward walk does with the gradients it reaches.
struct Walk<'a> {
    /// Return these tensors' gradients instead of accumulating into leaves' `.grad`.
    targets: Option<&'a HashSet<usize>>,
    /// Record the walk's own ops.
    create_graph: bool,
    /// Treat the targets as leaves: stop there instead of passing through to targets below.
    targets_are_leaves: bool,
}

impl<'a> Walk<'a> {
    fn accumulating(create_graph: bool) -> Self {
        Walk {
            targets: None,
            create_graph,
            targets_are_leaves: false,
        }
    }

    fn to(targets: &'a HashSet<usize>, create_graph: bool, targets_are_leaves: bool) -> Self {
        Walk {
            targets: Some(targets),
            create_graph,
            targets_are_leaves,
        }
    }
}

/// Restores the thread's grad mode when dropped.
struct GradModeGuard {
    previous: bool,
}

impl GradModeGuard {
    fn set(on: bool) -> Self {
        GradModeGuard {
            previous: set_grad_enabled(on),
        }
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.previous);
    }
}

/// Runs one node's backward. Without `create_graph` the walk records nothing. With it, an op
/// whose backward is written with recorded ops runs it recorded; any other runs unrecorded and
/// its gradients are marked, so differentiating through them raises instead of silently
/// missing terms.
fn node_gradients(node: &Node, g: &Tensor, create_graph: bool) -> Result<Vec<Option<Tensor>>> {
    if !create_graph || crate::double_backward::is_twice_differentiable(node.name) {
        return (node.backward)(g);
    }
    let grads = {
        let _off = GradModeGuard::set(false);
        (node.backward)(g)?
    };
    let mut depends_on = vec![g];
    depends_on.extend(&node.inputs);
    Ok(crate::double_backward::mark_unsupported(
        node.name,
        grads,
        &depends_on,
    ))
}

/// The walk shared by `backward` and `grad`: with `targets`, leaf gradients are returned for those
/// tensors instead of being accumulated; the walk ends once every target's gradient is complete.
fn run_backward(root: &Tensor, grad: Option<Tensor>, walk: Walk) -> Result<HashMap<usize, Tensor>> {
    let Walk {
        targets,
        create_graph,
        targets_are_leaves,
    } = walk;
    if !root.requires_grad() {
        return Err(Error::Autograd(
            "backward: the tensor does not require grad (no input had requires_grad=True, or it was computed under no_grad)".into(),
        ));
    }
    let seed = match grad {
        Some(g) => {
            crate::ensure_shape!(
                g.shape() == root.shape(),
                "backward",
                "gradient shape {:?} does not match tensor shape {:?}",
                g.shape(),
                root.shape()
            );
            g
        }
        None => {
            if root.numel() != 1 {
                return Err(Error::Autograd(format!(
                    "backward: gradient can be implicitly created only for one-element outputs, got shape {:?}; pass a gradient",
                    root.shape()
                )));
            }
            Tensor::ones(root.shape(), root.dtype(), root.device())?
        }
    };
    let _mode = GradModeGuard::set(create_graph);
    // Backward products run at the precision their forward op recorded, never at the scope's:
    // a `backward()` called inside an autocast block rounds nothing more.
    let _f32 = crate::autocast::AutocastGuard::new(crate::autocast::Precision::F32);
    let mut grads: HashMap<usize, Tensor> = HashMap::new();
    let mut found = HashMap::new();
    grads.insert(root.id(), seed);
    let leaves = targets.filter(|_| targets_are_leaves);
    for t in reverse_topological(root, leaves) {
        let Some(g) = grads.remove(&t.id()) else {
            continue;
        };
        let g = t.apply_grad_hooks(g)?;
        if targets.is_none() && t.retains_grad() {
            t.accumulate_grad_with(g.clone(), create_graph)?;
        }
        if let Some(targets) = targets {
            if targets.contains(&t.id()) {
                found.insert(t.id(), g.clone());
                if found.len() == targets.len() {
                    break;
                }
                if targets_are_leaves {
                    continue;
                }
            }
        }
        let Some(node) = t.node() else {
            if targets.is_none() {
                t.accumulate_grad_with(g, create_graph)?;
                t.run_post_accumulate_hooks()?;
            }
            continue;
        };
        let input_grads = node_gradients(node, &g, create_graph)?;
        for (index, (input, ig)) in node.inputs.iter().zip(input_grads).enumerate() {
            let Some(ig) = ig else { continue };
            if !input.requires_grad() {
                continue;
            }
            crate::anomaly::check_gradient(node.name, index, &ig)?;
            crate::ensure_shape!(
                ig.shape() == input.shape(),
                "backward",
                "op {} produced gradient {:?} for input {:?}",
                node.name,
                ig.shape(),
                input.shape()
            );
            let merged = match grads.remove(&input.id()) {
                Some(prev) => prev.add(&ig)?,
                None => ig,
            };
            grads.insert(input.id(), merged);
        }
    }
    Ok(found)
}
