"""Training from notebooks: ``model.fit``, ``model.evaluate`` and ``model.predict`` run whole
epochs in Rust; this package holds their Python side (History, callbacks, metrics, checkpoints).
"""

from .adversarial import AWP, MART, TRADES, FastAT, FreeAT
from .callbacks import (Callback, CatastrophicOverfittingStop, EarlyStopping, ModelCheckpoint, ProgressBar,
                        ReduceLROnPlateau)
from .checkpoint import load_training_checkpoint, save_training_checkpoint
from .fit import fit
from .gan import GanHistory, train_gan
from .history import History
from .metrics import EvaluationReport, evaluate, predict
from .weight_averaging import WeightAveraging

__all__ = [
    "fit", "evaluate", "predict", "History", "EvaluationReport", "Callback", "EarlyStopping", "ModelCheckpoint",
    "CatastrophicOverfittingStop", "ReduceLROnPlateau", "TRADES", "MART", "FastAT", "FreeAT", "AWP",
    "ProgressBar", "save_training_checkpoint", "load_training_checkpoint", "train_gan", "GanHistory",
    "WeightAveraging",
]
