"""Folding an evaluated batch norm into the layer before it: the fused layer computes the pair."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn
from ferrograd.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval


def _trained_bn(bn: nn.Module, inputs: fg.Tensor) -> None:
    """Gives the batch norm non-trivial running statistics and affine parameters."""
    bn.train()
    for _ in range(5):
        bn(inputs * 2.0 + 0.5)
    with fg.no_grad():
        bn.weight.copy_(fg.randn(bn.num_features))
        bn.bias.copy_(fg.randn(bn.num_features))
    bn.eval()


@pytest.mark.parametrize("case", ["conv1d", "conv2d", "conv3d", "conv_transpose2d", "linear"])
def test_the_fused_layer_computes_layer_then_batch_norm(case: str) -> None:
    fg.manual_seed(0)
    layer, bn, shape = {
        "conv1d": (nn.Conv1d(3, 5, 3), nn.BatchNorm1d(5), (4, 3, 9)),
        "conv2d": (nn.Conv2d(3, 5, 3, bias=False), nn.BatchNorm2d(5), (4, 3, 7, 7)),
        "conv3d": (nn.Conv3d(2, 4, 2), nn.BatchNorm3d(4), (2, 2, 4, 4, 4)),
        "conv_transpose2d": (nn.ConvTranspose2d(3, 5, 3, stride=2), nn.BatchNorm2d(5), (2, 3, 4, 4)),
        "linear": (nn.Linear(6, 5), nn.BatchNorm1d(5), (8, 6)),
    }[case]
    x = fg.randn(*shape)
    layer.eval()
    _trained_bn(bn, layer(x).detach())
    fused = (fuse_linear_bn_eval(layer, bn) if case == "linear"
             else fuse_conv_bn_eval(layer, bn, transpose=case.startswith("conv_transpose")))
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(layer(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    assert fused is not layer and fused.bias is not None and layer.bias is not fused.bias


def test_fusion_refuses_training_mode_and_mismatched_channels() -> None:
    conv, bn = nn.Conv2d(3, 5, 3), nn.BatchNorm2d(5)
    with pytest.raises(ValueError, match="eval"):
        fuse_conv_bn_eval(conv, bn)
    conv.eval()
    with pytest.raises(ValueError, match="4 channels"):
        fuse_conv_bn_eval(conv, nn.BatchNorm2d(4).eval())


def test_sync_batch_norm_is_a_batch_norm_in_one_process_and_converts_models() -> None:
    fg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 25, 6),
                          nn.BatchNorm1d(6))
    x = fg.randn(8, 3, 7, 7)
    model.train()
    model(x)  # running statistics
    model.eval()
    expected = model(x).detach().numpy()
    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(converted[1], nn.SyncBatchNorm) and isinstance(converted[5], nn.SyncBatchNorm)
    assert not converted[1].training
    assert {k: v.detach().numpy().tolist() for k, v in converted.state_dict().items()} == \
        {k: v.tolist() for k, v in state.items()}
    np.testing.assert_array_equal(converted(x).detach().numpy(), expected)
    sync, plain = nn.SyncBatchNorm(4), nn.BatchNorm2d(4)
    y = fg.randn(5, 4, 3, 3)
    np.testing.assert_array_equal(sync(y).detach().numpy(), plain(y).detach().numpy())
    np.testing.assert_array_equal(sync.running_mean.numpy(), plain.running_mean.numpy())
    assert tuple(sync(fg.randn(2, 4, 3, 3, 3)).shape) == (2, 4, 3, 3, 3)
    with pytest.raises(ValueError, match="process_group"):
        nn.SyncBatchNorm(4, process_group=object())
