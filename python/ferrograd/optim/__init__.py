"""Optimizers (``ferrograd.optim``), learning-rate schedules (``ferrograd.optim.lr_scheduler``) and
weight averaging (``ferrograd.optim.swa_utils``)."""

from . import lr_scheduler, swa_utils
from .algorithms import (ASGD, SGD, Adadelta, Adafactor, Adagrad, Adam, Adamax, AdamW, Muon, NAdam, RAdam, RMSprop,
                         Rprop, clip_grad_norm_)
from .lbfgs import LBFGS
from .optimizer import Optimizer

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "RAdam", "NAdam", "Rprop", "ASGD", "Adafactor", "Muon",
           "LBFGS", "clip_grad_norm_", "lr_scheduler", "swa_utils"]
