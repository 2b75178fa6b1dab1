//! Square keeps its iterates in host buffers (its random search picks squares per sample on the
//! host). `HostView` lets it attack a model on a GPU unchanged: each forward sends the input to
//! the model's device and brings the logits back, both as differentiable transfers, so input
//! gradients would flow back to a host leaf too. The PGD family, APGD, TRADES, CW and DeepFool keep
//! their iterates on the model's device instead.

use crate::nn::{Module, TensorRole};
use crate::{Device, Result, Tensor};

/// The device of `model`'s first parameter or buffer (the CPU for a model without any).
pub fn model_device(model: &dyn Module) -> Device {
    let mut device = None;
    model.visit("", &mut |_, t, _| {
        device.get_or_insert(t.device());
    });
    device.unwrap_or(Device::Cpu)
}

/// `model` seen from the host.
#[derive(Debug)]
pub struct HostView<'a> {
    model: &'a dyn Module,
    device: Device,
}

impl<'a> HostView<'a> {
    /// The view of `model`, whose device is `model_device(model)`.
    pub fn of(model: &'a dyn Module) -> HostView<'a> {
        HostView {
            model,
            device: model_device(model),
        }
    }

    /// Where the model computes.
    pub fn device(&self) -> Device {
        self.device
    }
}

impl Module for HostView<'_> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let input_device = x.device();
        self.model
            .forward(&x.to_device(self.device)?)?
            .to_device(input_device)
    }

    fn visit(&self, prefix: &str, f: &mut dyn FnMut(String, &Tensor, TensorRole)) {
        self.model.visit(prefix, f)
    }
}
