"""Adversarial attacks whose iterations run in Rust (``ferrograd.attacks``), with
torchattacks-style classes, and the robustness report.

Inputs live in [0, 1] (``bounds``); put normalisation inside the model with
:class:`ferrograd.nn.Normalize`. Attacks put the model in eval mode while they run, work on numpy
arrays or Datasets in batches, support targeted mode (``targets=``) and are seeded.
"""

from .auto import APGD, APGDT, AutoAttack, Square
from .base import Attack, AttackResult
from .gradient import BIM, FGSM, MIFGSM, NIFGSM, PGD, PGDL2, RFGSM
from .optimization import CW, FAB, FABT, DeepFool
from .transfer import DIFGSM, SINIFGSM, TIFGSM, VMIFGSM, VNIFGSM
from .report import RobustnessReport, RobustnessWarning, robustness

__all__ = ["Attack", "AttackResult", "FGSM", "RFGSM", "BIM", "PGD", "PGDL2", "MIFGSM", "NIFGSM", "APGD", "APGDT", "AutoAttack", "Square", "CW", "DeepFool", "FAB", "FABT", "DIFGSM", "TIFGSM", "VMIFGSM", "VNIFGSM", "SINIFGSM", "robustness",
           "RobustnessReport", "RobustnessWarning"]
