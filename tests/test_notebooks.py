"""Every notebook in `notebooks/` runs top to bottom, in a fresh kernel, in its short mode
(`FERROGRAD_NOTEBOOK_QUICK=1`) on the real data; a check cell appended to each then asserts on the
values the notebook computed, so a notebook that runs but learns nothing fails too."""

from __future__ import annotations

import os
from pathlib import Path

import nbclient
import nbformat
import pytest

import ferrograd

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

# What each notebook must have computed in its short mode (margins from the short runs' values).
CHECKS = {
    "01_quickstart_mnist.ipynb": """
assert report.accuracy > 0.93, report.accuracy
assert restored.evaluate(test).accuracy == report.accuracy
assert history["val_accuracy"][-1] == report.accuracy
""",
    "02_python_loop_to_fit.ipynb": """
assert len(loop_losses) == len(train) // BATCH + (len(train) % BATCH > 0)
assert np.mean(loop_losses[-10:]) < 0.5 * loop_losses[0]
assert fit_model.evaluate(test).accuracy > 0.8
if torch is not None:
    np.testing.assert_allclose(loop_losses[:3], torch_losses[:3], rtol=1e-4)
""",
    "03_adversarial_robustness.ipynb": """
assert fgsm.norms().max() <= 0.3 + 1e-6 and pgd.norms().max() <= 0.3 + 1e-6
assert pgd.adversarial.min() >= 0 and pgd.adversarial.max() <= 1
assert pgd.robust_accuracy <= fgsm.robust_accuracy <= fgsm.clean_accuracy
assert standard_report.table["pgd"][0] == standard_report.clean_accuracy
assert all(a >= b for a, b in zip(standard_report.worst_case, standard_report.worst_case[1:]))
assert robust_report.worst_case[-1] > standard_report.worst_case[-1] + 0.05  # at eps 0.3, the training eps
assert auto.robust_accuracy <= pgd50.robust_accuracy + 0.02, (auto.robust_accuracy, pgd50.robust_accuracy)
assert np.median(fab_robust.norms()[fab_robust.success]) > np.median(fab_standard.norms()[fab_standard.success])
assert certified_curve == sorted(certified_curve, reverse=True) and certified_curve[0] > 0.5
assert maps["standard"].shape == digits.shape
linf = {name: r for name, r in catalogue_results.items() if "L∞" in name[0]}
assert all(r.norms().max() <= 0.3 + 1e-6 for r in linf.values())
pixels = lambda r: np.median((r.perturbation.reshape(len(r.labels), -1) != 0).sum(1)[r.success])  # noqa: E731
assert pixels(catalogue_results["SparseFool   L0, minimal", "standard"]) < 0.2 * pixels(linf["APGD-DLR     L∞ 0.3", "standard"])
assert catalogue_results["APGD-DLR     L∞ 0.3", "standard"].robust_accuracy <= 0.05
ibp = certificates["IBP-trained"]
assert ibp.certified_accuracy > certificates["Fast-AT"].certified_accuracy + 0.1, certificates
assert ibp.certified_accuracy <= ibp_pgd.robust_accuracy and not ibp_pgd.success[ibp.certified].any()
""",
    "04_finetune_minilm.ipynb": """
assert report.accuracy > 0.7, report.accuracy
assert emb.shape == (4, 384) and emb[0] @ emb[1] > emb[0] @ emb[3]
""",
    "05_resnet18_cifar10.ipynb": """
assert best.exists() and len(history["loss"]) == EPOCHS
assert abs(report.accuracy - max(history["val_accuracy"])) < 1e-9
assert probs.shape == (len(test), 10) and np.allclose(probs.sum(1), 1, atol=1e-5)
""",
    "06_gpu_mixed_precision.ipynb": """
assert errors["bf16 operands, f32 accumulation"].mean() > 100 * errors["float32"].mean()
assert rounding.max() <= 2.0**-8
assert runs["bf16"]["accuracy"] > 0.85 and abs(runs["bf16"]["accuracy"] - runs["f32"]["accuracy"]) < 0.02
assert np.abs(w16 - w32).max() > 0  # the precision took effect
assert np.mean(loop_losses[-10:]) < 0.5 * loop_losses[0] and not fg.is_autocast_enabled()
assert bool(device_times) == HAS_GPU
""",
}


def test_every_notebook_has_a_check() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_notebook_runs_top_to_bottom(name: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel imports the ferrograd this test session imported.
    package_root = str(Path(ferrograd.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("FERROGRAD_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("FERROGRAD_DATA", str(data_dir))
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(CHECKS[name]))
    client = nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
