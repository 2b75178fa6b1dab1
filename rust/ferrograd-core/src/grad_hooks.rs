//! Tensor gradient hooks, post-accumulate hooks and retained gradients (PyTorch's
//! `register_hook`, `register_post_accumulate_grad_hook` and `retain_grad`).
//!
//! During a backward walk, once a tensor's gradient is complete (every consumer has added its
//! share), its hooks run in registration order; a hook may return a replacement gradient, which is
//! what flows on (into the tensor's inputs, or into a leaf's `.grad`). A non-leaf that retains
//! its gradient then stores it in `.grad`, as a leaf does. Saliency and Grad-CAM read gradients of
//! inner activations this way. A leaf's post-accumulate hooks run after its `.grad` has been
//! updated, seeing the leaf itself (an optimizer can step a parameter there, mid-backward).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::{Error, Result, Tensor};

/// A gradient hook: sees the gradient, may return a replacement of the same shape.
pub type GradHook = Arc<dyn Fn(&Tensor) -> Result<Option<Tensor>> + Send + Sync>;

/// A hook run once a backward pass has accumulated a leaf's `.grad`; it sees the leaf.
pub type PostAccumulateHook = Arc<dyn Fn(&Tensor) -> Result<()> + Send + Sync>;

static NEXT_HOOK_ID: AtomicUsize = AtomicUsize::new(1);

/// The hooks of one tensor and whether it keeps its gradient.
#[derive(Default)]
pub struct GradHooks {
    hooks: Mutex<Vec<(usize, GradHook)>>,
    post_accumulate: Mutex<Vec<(usize, PostAccumulateHook)>>,
    retains_grad: AtomicBool,
}

fn poisoned() -> Error {
    Error::Autograd("gradient hook lock poisoned".into())
}

impl Tensor {
    /// Keeps this tensor's gradient in `.grad` after `backward`, like a leaf's (a no-op on
    /// leaves, which keep theirs already).
    pub fn retain_grad(&self) -> Result<()> {
        if !self.requires_grad() {
            return Err(Error::Autograd(
                "retain_grad: the tensor does not require grad, so it has no gradient to keep"
                    .into(),
            ));
        }
        if !self.is_leaf() {
            self.grad_hooks()
                .retains_grad
                .store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Whether `retain_grad` was called on this non-leaf.
    pub fn retains_grad(&self) -> bool {
        self.grad_hooks().retains_grad.load(Ordering::Relaxed)
    }

    /// Adds a hook run on this tensor's gradient in every later backward pass; returns its id
    /// for `remove_hook`.
    pub fn register_hook(&self, hook: GradHook) -> Result<usize> {
        if !self.requires_grad() {
            return Err(Error::Autograd(
                "register_hook: the tensor does not require grad, so no gradient reaches it".into(),
            ));
        }
        let id = NEXT_HOOK_ID.fetch_add(1, Ordering::Relaxed);
        let mut hooks = self.grad_hooks().hooks.lock().map_err(|_| poisoned())?;
        hooks.push((id, hook));
        Ok(id)
    }

    /// Adds a hook run after every later backward pass has accumulated this leaf's `.grad`;
    /// returns its id for `remove_hook`.
    pub fn register_post_accumulate_grad_hook(&self, hook: PostAccumulateHook) -> Result<usize> {
        if !self.requires_grad() || !self.is_leaf() {
            return Err(Error::Autograd(
                "register_post_accumulate_grad_hook: expected a leaf tensor that requires grad (only \
                 leaves accumulate .grad)"
                    .into(),
            ));
        }
        let id = NEXT_HOOK_ID.fetch_add(1, Ordering::Relaxed);
        let mut hooks = self
            .grad_hooks()
            .post_accumulate
            .lock()
            .map_err(|_| poisoned())?;
        hooks.push((id, hook));
        Ok(id)
    }

    /// Removes the hook `id` returned by `register_hook` or `register_post_accumulate_grad_hook`
    /// (a removed id is ignored).
    pub fn remove_hook(&self, id: usize) -> Result<()> {
        let hooks = self.grad_hooks();
        hooks
            .hooks
            .lock()
            .map_err(|_| poisoned())?
            .retain(|(hook_id, _)| *hook_id != id);
        hooks
            .post_accumulate
            .lock()
            .map_err(|_| poisoned())?
            .retain(|(hook_id, _)| *hook_id != id);
        Ok(())
    }

    /// Runs this leaf's post-accumulate hooks in registration order.
    pub(crate) fn run_post_accumulate_hooks(&self) -> Result<()> {
        // Copied out so that a hook may register or remove hooks without deadlocking.
        let hooks: Vec<PostAccumulateHook> = {
            let hooks = self
                .grad_hooks()
                .post_accumulate
                .lock()
                .map_err(|_| poisoned())?;
            hooks.iter().map(|(_, h)| h.clone()).collect()
        };
        hooks.iter().try_for_each(|hook| hook(self))
    }

    /// `grad` after this tensor's hooks, each seeing the previous one's result.
    pub(crate) fn apply_grad_hooks(&self, grad: Tensor) -> Result<Tensor> {
        // Copied out so that a hook may register or remove hooks without deadlocking.
        let hooks: Vec<GradHook> = {
            let hooks = self.grad_hooks().hooks.lock().map_err(|_| poisoned())?;
            hooks.iter().map(|(_, h)| h.clone()).collect()
        };
        let mut grad = grad;
        for hook in hooks {
            if let Some(replaced) = hook(&grad)? {
                crate::ensure_shape!(
                    replaced.shape() == grad.shape(),
                    "register_hook",
                    "a hook returned a gradient of shape {:?} for a tensor of shape {:?}",
                    replaced.shape(),
                    grad.shape()
                );
                grad = replaced;
            }
        }
        Ok(grad)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use crate::Tensor;

    #[test]
    fn hooks_see_and_replace_gradients_and_non_leaves_retain_theirs() {
        let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap();
        x.set_requires_grad(true).unwrap();
        let hidden = x.mul_scalar(2.0).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        hidden
            .register_hook(Arc::new(move |g: &Tensor| {
                record.lock().unwrap().extend(g.to_vec::<f32>()?);
                Ok(Some(g.mul_scalar(10.0)?))
            }))
            .unwrap();
        hidden.retain_grad().unwrap();
        let loss = hidden.mul(&hidden).unwrap().sum(&[0], false).unwrap();
        loss.backward(None).unwrap();
        // d loss / d hidden = 2 * hidden = [4, 8, 12]; the hook scales what flows on by 10, and
        // the retained gradient is the one after the hook, as in PyTorch.
        assert_eq!(*seen.lock().unwrap(), vec![4.0, 8.0, 12.0]);
        assert_eq!(
            hidden.grad().unwrap().to_vec::<f32>().unwrap(),
            vec![40.0, 80.0, 120.0]
        );
        assert_eq!(
            x.grad().unwrap().to_vec::<f32>().unwrap(),
            vec![80.0, 160.0, 240.0]
        );
        let wrong = x.register_hook(Arc::new(|_: &Tensor| {
            Ok(Some(Tensor::zeros(
                &[2],
                crate::DType::F32,
                crate::Device::Cpu,
            )?))
        }));
        let id = wrong.unwrap();
        x.set_grad(None);
        assert!(x
            .mul_scalar(1.0)
            .unwrap()
            .sum(&[0], false)
            .unwrap()
            .backward(None)
            .is_err());
        x.remove_hook(id).unwrap();
        x.mul_scalar(1.0)
            .unwrap()
            .sum(&[0], false)
            .unwrap()
            .backward(None)
            .unwrap();
        assert_eq!(
            x.grad().unwrap().to_vec::<f32>().unwrap(),
            vec![1.0, 1.0, 1.0]
        );
        let constant = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
        assert!(constant.retain_grad().is_err());
    }

    #[test]
    fn post_accumulate_hooks_see_the_accumulated_leaf() {
        let x = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
        x.set_requires_grad(true).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let id = x
            .register_post_accumulate_grad_hook(Arc::new(move |leaf: &Tensor| {
                record
                    .lock()
                    .unwrap()
                    .push(leaf.grad().unwrap().to_vec::<f32>()?);
                Ok(())
            }))
            .unwrap();
        for _ in 0..2 {
            let loss = x.mul_scalar(3.0).unwrap().sum(&[0], false).unwrap();
            loss.backward(None).unwrap();
        }
        // The second pass sees the gradient accumulated over both.
        assert_eq!(*seen.lock().unwrap(), vec![vec![3.0, 3.0], vec![6.0, 6.0]]);
        x.remove_hook(id).unwrap();
        let loss = x.sum(&[0], false).unwrap();
        loss.backward(None).unwrap();
        assert_eq!(seen.lock().unwrap().len(), 2);
        let hidden = x.mul_scalar(2.0).unwrap();
        assert!(hidden
            .register_post_accumulate_grad_hook(Arc::new(|_: &Tensor| Ok(())))
            .is_err());
    }
}
