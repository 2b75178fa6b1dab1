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
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = x.clone();
        for (_, m) in &self.children {
            y = m.forward(&y)?;
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
