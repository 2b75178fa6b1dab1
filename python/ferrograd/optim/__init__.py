"""Optimizers (``ferrograd.optim``) and learning-rate schedules (``ferrograd.optim.lr_scheduler``)."""

from . import lr_scheduler
from .algorithms import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop, Rprop, clip_grad_norm_
from .lbfgs import LBFGS
from .optimizer import Optimizer

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "RAdam", "NAdam", "Rprop",
           "LBFGS", "clip_grad_norm_", "lr_scheduler"]
