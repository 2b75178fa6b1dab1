"""``ferrograd.nn.utils``: gradient clipping under PyTorch's module path."""

from ..optim.algorithms import clip_grad_norm_

__all__ = ["clip_grad_norm_"]
