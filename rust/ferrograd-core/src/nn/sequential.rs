//! Sequential: named children applied in order.

use super::{join, Module, TensorRole};
use crate::{Result, Tensor};

/// Applies its children in order; their names prefix their state-dict keys (`"0"`, `"1"`, ...
/// or the names given).
#[derive(Debug, Default)]
pub struct Sequential {
    pub children: Vec<(String, Box<dyn Module>)>,
}

impl Sequential {
    /// Children named "0", "1", ...
    pub fn new(children: Vec<Box<dyn Module>>) -> Sequential {
        Sequential {
            children: children
                .into_iter()
                .enumerate()
                .map(|(i, m)| (i.to_string(), m))
                .collect(),
        }
    }
}

impl Module for Sequential {
    /// Children in order; a layer followed by a ReLU (and a max pool) runs as one fused op
    /// where it has one.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = x.clone();
        let children: Vec<&dyn Module> = self.children.iter().map(|(_, m)| &**m).collect();
        let mut i = 0;
        while let Some(m) = children.get(i) {
            if children.get(i + 1).is_some_and(|next| next.is_relu()) {
                let pool = children.get(i + 2).and_then(|p| p.max_pool_window());
                if let Some(fused) = pool.and_then(|pool| m.forward_relu_max_pool(&y, pool)) {
                    y = fused?;
                    i += 3;
                    continue;
                }
                if let Some(fused) = m.forward_relu(&y) {
                    y = fused?;
                    i += 2;
                    continue;
                }
            }
            y = m.forward(&y)?;
            i += 1;
        }
        Ok(y)
    }

    fn visit(&self, prefix: &str, f: &mut dyn FnMut(String, &Tensor, TensorRole)) {
        for (name, m) in &self.children {
            m.visit(&join(prefix, name), f);
        }
    }

    fn set_training(&mut self, training: bool) {
        for (_, m) in &mut self.children {
            m.set_training(training);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Activation, Conv2d, Linear};
    use crate::testing::random_leaf;

    /// The children applied one by one, each through its own `forward` (nothing fused).
    fn children_one_by_one(seq: &Sequential, x: &Tensor) -> Tensor {
        seq.children
            .iter()
            .fold(x.clone(), |h, (_, m)| m.forward(&h).unwrap())
    }

    /// The gradient of `sum(out^2)` with respect to `x`.
    fn input_grad(out: &Tensor, x: &Tensor) -> Vec<f32> {
        let loss = out.square().unwrap().sum(&[], false).unwrap();
        crate::autograd::grad(&loss, std::slice::from_ref(x)).unwrap()[0]
            .clone()
            .unwrap()
            .to_vec::<f32>()
            .unwrap()
    }

    /// A 3x3 convolution from 2 to `out` channels with padding 1, its weights drawn from `seed`.
    fn conv3x3(out: usize, seed: u64) -> Conv2d {
        Conv2d {
            weight: random_leaf(&[out, 2, 3, 3], seed),
            bias: Some(random_leaf(&[out], seed + 1)),
            stride: (1, 1),
            padding: (1, 1),
            dilation: (1, 1),
            groups: 1,
            input_format: None,
        }
    }

    /// A convolution followed by a ReLU runs as the fused op, with the values and gradients of
    /// the children applied one by one; a ReLU after a layer without a fused form stays a ReLU.
    #[test]
    fn conv_then_relu_runs_fused() {
        let conv = || conv3x3(3, 1);
        let seq = Sequential::new(vec![
            Box::new(conv()),
            Box::new(Activation::Relu),
            Box::new(Activation::Relu),
        ]);
        let x = random_leaf(&[2, 2, 5, 5], 3);
        let y = seq.forward(&x).unwrap();
        assert_eq!(y.node().unwrap().name, "relu");
        assert_eq!(
            y.node().unwrap().inputs[0].node().unwrap().name,
            "conv2d_relu"
        );
        let one_by_one = children_one_by_one(&seq, &x);
        assert_eq!(
            y.to_vec::<f32>().unwrap(),
            one_by_one.to_vec::<f32>().unwrap()
        );
        for (a, e) in input_grad(&y, &x).iter().zip(input_grad(&one_by_one, &x)) {
            assert!((a - e).abs() <= 1e-5 * (1.0 + e.abs()), "{a} vs {e}");
        }
    }

    /// A convolution followed by a ReLU and a max pool runs as one fused op, with the values and
    /// gradients of the children applied one by one; before any other pool only the ReLU fuses.
    #[test]
    fn conv_relu_max_pool_runs_fused() {
        use crate::nn::{AvgPool2d, MaxPool2d};
        let conv = || conv3x3(4, 11);
        let max_pool = MaxPool2d {
            window: crate::ops::pool::MaxPoolWindow {
                kernel: (2, 2),
                stride: (2, 2),
                padding: (0, 0),
                dilation: (1, 1),
                ceil_mode: false,
            },
        };
        let seq = Sequential::new(vec![
            Box::new(conv()),
            Box::new(Activation::Relu),
            Box::new(max_pool),
        ]);
        let x = random_leaf(&[3, 2, 6, 6], 13);
        let y = seq.forward(&x).unwrap();
        assert_eq!(y.node().unwrap().name, "conv2d_relu_max_pool2d");
        let one_by_one = children_one_by_one(&seq, &x);
        assert_eq!(
            y.to_vec::<f32>().unwrap(),
            one_by_one.to_vec::<f32>().unwrap()
        );
        assert_eq!(input_grad(&y, &x), input_grad(&one_by_one, &x));
        let avg_pool = AvgPool2d {
            kernel: (2, 2),
            stride: (2, 2),
            padding: (0, 0),
            ceil_mode: false,
            count_include_pad: true,
        };
        let seq = Sequential::new(vec![
            Box::new(conv()),
            Box::new(Activation::Relu),
            Box::new(avg_pool),
        ]);
        let y = seq.forward(&x).unwrap();
        assert_eq!(
            y.node().unwrap().inputs[0].node().unwrap().name,
            "conv2d_relu"
        );
    }

    /// A linear layer followed by a ReLU runs as the fused op, with the composed ops' values.
    #[test]
    fn linear_then_relu_runs_fused() {
        let seq = Sequential::new(vec![
            Box::new(Linear {
                weight: random_leaf(&[4, 3], 4),
                bias: Some(random_leaf(&[4], 5)),
            }),
            Box::new(Activation::Relu),
        ]);
        let x = random_leaf(&[2, 3], 6);
        let y = seq.forward(&x).unwrap();
        assert_eq!(y.node().unwrap().name, "linear_relu");
        let one_by_one = children_one_by_one(&seq, &x);
        assert_eq!(
            y.to_vec::<f32>().unwrap(),
            one_by_one.to_vec::<f32>().unwrap()
        );
    }
}
