"""Adversarial attacks whose iterations run in Rust (``ferrograd.attacks``), with
torchattacks-style classes, and the robustness report.

Inputs live in [0, 1] (``bounds``); put normalisation inside the model with
:class:`ferrograd.nn.Normalize`. Attacks put the model in eval mode while they run, work on numpy
arrays or Datasets in batches, support targeted mode (``targets=``) and are seeded.
"""

from .auto import APGD, APGDT, AutoAttack, Square
from .base import Attack, AttackResult
from .ensemble import MultiAttack
from .gradient_free import SPSA
from .gradient import BIM, EOTPGD, FFGSM, FGSM, MIFGSM, NIFGSM, PGD, PGDL2, RFGSM, TPGD, UPGD, Jitter
from .noise import GN, VANILA
from .sparse import JSMA, OnePixel, Pixle, SparseFool
from .optimization import CW, EADEN, EADL1, FAB, FABT, DeepFool
from .transfer import DIFGSM, PIFGSM, PIFGSMPP, SINIFGSM, TIFGSM, VMIFGSM, VNIFGSM
from .smooth_adv import PGDRS, PGDRSL2
from .lgv import LGV
from .smoothing import ABSTAIN, Smooth, certified_accuracy
from .interval_bounds import (IntervalCertificate, certify_interval, interval_bounds, interval_loss,
                              margin_lower_bounds)
from .linear_bounds import certify_crown, crown_ibp_loss, crown_margin_lower_bounds
from .report import RobustnessReport, RobustnessWarning, robustness

__all__ = ["Attack", "AttackResult", "FGSM", "FFGSM", "RFGSM", "BIM", "PGD", "PGDL2", "EOTPGD", "TPGD", "UPGD", "Jitter", "MIFGSM", "NIFGSM",
           "DIFGSM", "TIFGSM", "VMIFGSM", "VNIFGSM", "SINIFGSM", "PIFGSM", "PIFGSMPP", "LGV", "APGD", "APGDT", "AutoAttack", "MultiAttack", "Square", "SPSA", "CW",
           "DeepFool", "EADEN", "EADL1", "FAB", "FABT", "JSMA", "SparseFool", "OnePixel", "Pixle", "GN", "VANILA", "PGDRS", "PGDRSL2", "Smooth", "ABSTAIN", "certified_accuracy", "robustness", "RobustnessReport", "RobustnessWarning",
           "interval_bounds", "margin_lower_bounds", "interval_loss", "certify_interval", "IntervalCertificate",
           "crown_margin_lower_bounds", "certify_crown", "crown_ibp_loss"]
