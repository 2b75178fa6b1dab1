"""Neural-network layers (``ferrograd.nn``) with PyTorch's names, defaults and state-dict keys."""

import sys

from .. import functional
from . import init, utils
from .activation import (ELU, GELU, AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout,
                         Softmax2d, Softsign, Flatten, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax,
                         Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softplus, Tanh, Unflatten)
from .container import ModuleDict, ModuleList, Sequential
from .parameter_containers import ParameterDict, ParameterList
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .linear import Bilinear, Identity, Linear
from .folding import Fold, Unfold
from .extra_layers import (CELU, GLU, RReLU, SELU, CTCLoss, CosineEmbeddingLoss, MultiLabelMarginLoss,
                           TripletMarginWithDistanceLoss, CosineSimilarity, GaussianNLLLoss, Hardshrink,
                           HingeEmbeddingLoss, MarginRankingLoss, MultiLabelSoftMarginLoss, MultiMarginLoss,
                           PairwiseDistance, PoissonNLLLoss, Softmin, SoftMarginLoss, Softshrink, Tanhshrink, Threshold,
                           TripletMarginLoss)
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyConv1d, LazyConv2d, LazyConv3d,
                   LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d, LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d,
                   LazyLinear)
from .adaptive_softmax import AdaptiveLogSoftmaxWithLoss
from .module import Buffer, Module, Parameter
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, InstanceNorm1d, InstanceNorm2d,
                            InstanceNorm3d, LayerNorm, LocalResponseNorm, RMSNorm, SyncBatchNorm)
from .preprocess import Normalize
from .padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
                      ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                      ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d)
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d,
                      LPPool1d, LPPool2d, LPPool3d, MaxPool1d, MaxPool2d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d,
                      FractionalMaxPool2d, FractionalMaxPool3d)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .rnn import _CellBase as RNNCellBase, _RNNBase as RNNBase
from .linear_cross_entropy import LinearCrossEntropyLoss
from .data_parallel import DataParallel
from .transformer import (LearnedPositionalEmbedding, MultiheadAttention, SinusoidalPositionalEncoding, Transformer,
                          TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
                          generate_square_subsequent_mask)
from .sparse import Embedding, EmbeddingBag
from .volumetric import AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, Conv3d, ConvTranspose3d, MaxPool3d
from .upsampling import (ChannelShuffle, PixelShuffle, PixelUnshuffle, Upsample, UpsamplingBilinear2d,
                         UpsamplingNearest2d)

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d",
    "LayerNorm", "Dropout", "Embedding", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "ReLU", "LeakyReLU",
    "GELU", "Sigmoid", "Tanh", "SiLU", "Softplus", "Softmax", "LogSoftmax", "CrossEntropyLoss", "NLLLoss",
    "MSELoss", "L1Loss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss", "Normalize", "init",
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
    "generate_square_subsequent_mask", "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding",
    "Conv1d", "MaxPool1d", "AvgPool1d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "Upsample", "ELU", "Hardtanh",
    "ReLU6", "Hardsigmoid", "Hardswish", "Mish", "LogSigmoid", "ModuleDict", "ParameterList", "ParameterDict", "BatchNorm3d", "LocalResponseNorm", "ConvTranspose1d", "Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "EmbeddingBag", "AlphaDropout", "FeatureAlphaDropout", "UpsamplingNearest2d", "UpsamplingBilinear2d", "Dropout1d", "Dropout3d", "Softmax2d", "Softsign", "Bilinear", "InstanceNorm3d",
    "RMSNorm", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "ChannelShuffle", "CosineSimilarity", "PairwiseDistance", "Transformer", "TransformerDecoder", "TransformerDecoderLayer", "Dropout2d", "Unflatten", "utils",
    "AdaptiveMaxPool2d", "PixelShuffle", "PixelUnshuffle", "functional", "PReLU", "HuberLoss",
    "SELU", "CELU", "GLU", "Softmin", "Hardshrink", "Softshrink", "Tanhshrink", "Threshold", "RReLU",
    "MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
    "MultiMarginLoss", "TripletMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CTCLoss", "Fold", "Unfold",
    "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d",
    "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d",
    "CircularPad3d", "ConstantPad3d", "ReflectionPad3d", "ReplicationPad3d", "ZeroPad3d", "LPPool1d", "LPPool2d",
    "LPPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "FractionalMaxPool2d", "FractionalMaxPool3d", "AdaptiveLogSoftmaxWithLoss", "SyncBatchNorm", "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss",
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d", "LazyConv3d",
    "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
    "LazyLinear", "Buffer", "RNNBase", "RNNCellBase", "LinearCrossEntropyLoss", "DataParallel", "NLLLoss2d",
]

#: The older name of :class:`NLLLoss` (PyTorch keeps it as an alias).
NLLLoss2d = NLLLoss

# `ferrograd.nn.functional` is `ferrograd.functional`, so `import ferrograd.nn.functional as F` works.
sys.modules[f"{__name__}.functional"] = functional
