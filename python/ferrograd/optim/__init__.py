"""Optimizers (``ferrograd.optim``) and learning-rate schedules (``ferrograd.optim.lr_scheduler``)."""

from . import lr_scheduler
from .algorithms import SGD, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop, clip_grad_norm_
from .optimizer import Optimizer

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "RAdam", "NAdam", "clip_grad_norm_", "lr_scheduler"]
