//! Which ops can be differentiated twice, and how the others say so.
//!
//! A `create_graph` backward pass (`autograd::backward_with`, `autograd::grad_with`) runs with
//! grad mode on, so every op a backward closure calls is recorded and its gradients can be
//! differentiated again. That is only right for closures written entirely with recorded ops:
//! a closure that calls a raw kernel (a fused loss, a convolution's backward pass) returns a
//! tensor whose dependence on the op's inputs and on the incoming gradient is invisible to the
//! graph. Those are the ops listed below, each checked to take a recorded path in grad mode
//! (many take a faster raw path otherwise). Every other op's gradients come out marked: using
//! them in a differentiated expression is fine, but back-propagating through them raises
//! `NotImplemented` naming the op, rather than silently dropping second-order terms.

use crate::{Error, Result, Tensor};

/// Ops whose backward closure is recorded (so twice differentiable) inside a `create_graph` walk.
const TWICE_DIFFERENTIABLE: &[&str] = &[
    // A Python `autograd.Function`: its backward runs ferrograd ops, recorded in a
    // `create_graph` walk (one marked `once_differentiable` records as
    // "autograd_function_once", which is not listed).
    "autograd_function",
    // Pointwise, one operand (ops/unary.rs).
    "neg",
    "exp",
    "log",
    "sqrt",
    "abs",
    "sign",
    "recip",
    "square",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "gelu",
    "gelu_derivative",
    "silu",
    "softplus",
    "pow",
    "clamp",
    "affine",
    "sin",
    "cos",
    "floor",
    "ceil",
    "round",
    "log1p",
    "expm1",
    "erf",
    "erfc",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "asinh",
    "acosh",
    "atanh",
    "log2",
    "log10",
    "lgamma",
    "digamma",
    "polygamma",
    "erfinv",
    "i0",
    "i0e",
    "i1",
    "i1e",
    // ops/special_functions.rs.
    "erfcx",
    "log_ndtr",
    "ndtri",
    "bessel_j0",
    "bessel_j1",
    "bessel_y0",
    "bessel_y1",
    "modified_bessel_k0",
    "modified_bessel_k1",
    "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1",
    "airy_ai",
    "airy_ai_derivative",
    "round_to_bf16",
    // Pointwise, two operands (ops/binary.rs).
    "add",
    "sub",
    "mul",
    "div",
    "maximum",
    "minimum",
    "atan2",
    "floor_divide",
    "remainder",
    "fmod",
    "where",
    // Reductions, views and copies.
    "sum",
    "max",
    "min",
    "reshape",
    "view",
    "permute",
    "expand",
    "slice",
    "select",
    "cat",
    "pad",
    "contiguous",
    "to_dtype",
    "to_device",
    // Indexing (ops/index.rs): each one's backward is the other of its pair.
    "gather",
    "scatter_add",
    "index_select",
    "index_add",
    // Windows (ops/unfold.rs): im2col and col2im, each the other's backward.
    "unfold",
    "fold",
    // Products, losses and layers.
    "matmul",
    "linear",
    "linear_relu",
    "softmax",
    "log_softmax",
    "cross_entropy",
    "conv2d",
    "conv_transpose2d",
    "conv2d_relu",
    "conv2d_relu_max_pool2d",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "layer_norm",
    "batch_norm",
    // Fused CPU attention recomposes its forward from matmul and softmax (ops/attention.rs);
    // the fused recurrent cells from sigmoid, tanh and products (ops/rnn.rs).
    "scaled_dot_product_attention",
    "lstm_cell",
    "gru_cell",
];

/// Whether `op`'s backward closure records its ops in a `create_graph` walk.
pub(crate) fn is_twice_differentiable(op: &str) -> bool {
    TWICE_DIFFERENTIABLE.contains(&op)
}

/// The gradients of an op with inputs `inputs` for its output gradient `g`, recorded: `compose`
/// recomputes the op's output from `inputs` with ops that are twice differentiable, and a nested
/// recorded walk differentiates that (each input taken as independent, as a node's gradients are).
/// For fused ops whose fast backward is a raw kernel (normalisation layers).
pub(crate) fn recomposed(
    inputs: &[Tensor],
    g: &Tensor,
    compose: impl FnOnce(&[Tensor]) -> Result<Tensor>,
) -> Result<Vec<Option<Tensor>>> {
    let output = compose(inputs)?;
    crate::autograd::recorded_partials(&output, g, inputs)
}

/// Marks gradients that `op`'s backward computed outside the graph: each becomes a tensor with
/// the same values whose own backward raises. `depends_on` (the incoming gradient and the op's
/// inputs) is what the gradients truly depend on, so a marked gradient requires grad exactly
/// when a correct one would.
pub(crate) fn mark_unsupported(
    op: &'static str,
    grads: Vec<Option<Tensor>>,
    depends_on: &[&Tensor],
) -> Vec<Option<Tensor>> {
    grads
        .into_iter()
        .map(|grad| {
            grad.map(|grad| {
                grad.detach().attach_op(
                    "double_backward_unsupported",
                    depends_on,
                    Box::new(move |_| Err(unsupported(op))),
                )
            })
        })
        .collect()
}

/// The error raised when a gradient of `op` is differentiated.
fn unsupported(op: &str) -> Error {
    Error::NotImplemented(format!(
        "backward: differentiating the gradient of `{op}` again (create_graph=True) is not \
         supported yet; ops that support it: {}",
        TWICE_DIFFERENTIABLE.join(", ")
    ))
}

/// In a `create_graph` walk (grad mode on inside a backward closure), `op`'s gradients `grads`
/// computed without the graph are marked (see `mark_unsupported`); otherwise returned as they are.
pub(crate) fn unless_recorded(
    op: &'static str,
    grads: Vec<Option<Tensor>>,
    depends_on: &[&Tensor],
) -> Vec<Option<Tensor>> {
    if crate::autograd::is_grad_enabled() {
        mark_unsupported(op, grads, depends_on)
    } else {
        grads
    }
}

#[cfg(test)]
mod tests {
    use crate::autograd::grad_with;
    use crate::testing::random_leaf as leaf;
    use crate::{Error, Tensor};

    #[test]
    fn second_derivative_of_a_cube_and_an_unsupported_op() {
        let x = Tensor::from_vec(vec![-1.5, 0.5, 2.0], &[3]).unwrap();
        x.set_requires_grad(true).unwrap();
        let cube = x.mul(&x).unwrap().mul(&x).unwrap().sum(&[], false).unwrap();
        let d1 = grad_with(&cube, std::slice::from_ref(&x), true).unwrap()[0]
            .clone()
            .unwrap();
        assert_eq!(d1.to_vec::<f32>().unwrap(), vec![6.75, 0.75, 12.0]);
        let d2 = grad_with(
            &d1.sum(&[], false).unwrap(),
            std::slice::from_ref(&x),
            false,
        )
        .unwrap()[0]
            .clone()
            .unwrap();
        assert_eq!(d2.to_vec::<f32>().unwrap(), vec![-9.0, 3.0, 12.0]);

        // Max pooling is twice differentiable, but its recorded backward's own op
        // (`max_pool2d_backward`) is not listed: a third derivative carries a node that refuses.
        let w = leaf(&[1, 1, 2, 4], 7);
        let pooled = w
            .tanh()
            .unwrap()
            .max_pool2d((2, 2), (2, 2), (0, 0), (1, 1), false)
            .unwrap();
        let square_sum = |t: &Tensor| t.square().unwrap().sum(&[], false).unwrap();
        let first = grad_with(&square_sum(&pooled), std::slice::from_ref(&w), true).unwrap()[0]
            .clone()
            .unwrap();
        let second = grad_with(&square_sum(&first), std::slice::from_ref(&w), true).unwrap()[0]
            .clone()
            .unwrap();
        assert!(second.requires_grad());
        let again = grad_with(&second.sum(&[], false).unwrap(), &[w], false);
        assert!(
            matches!(&again, Err(Error::NotImplemented(m)) if m.contains("`max_pool2d_backward`")),
            "{again:?}"
        );
    }

    #[test]
    fn grad_with_respect_to_an_intermediate_and_its_source_counts_every_path() {
        let x = leaf(&[4], 3);
        let h = x.square().unwrap();
        let out = h.add(&x).unwrap().sum(&[], false).unwrap();
        let grads = grad_with(&out, &[h.clone(), x.clone()], false).unwrap();
        let (gh, gx) = (grads[0].clone().unwrap(), grads[1].clone().unwrap());
        assert_eq!(gh.to_vec::<f32>().unwrap(), vec![1.0; 4]);
        let expected: Vec<f32> = x
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .map(|v| 2.0 * v + 1.0)
            .collect();
        assert_eq!(gx.to_vec::<f32>().unwrap(), expected);
    }
}
