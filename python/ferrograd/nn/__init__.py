"""Neural-network layers (``ferrograd.nn``) with PyTorch's names, defaults and state-dict keys."""

from . import init
from .activation import GELU, Dropout, Flatten, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .container import ModuleList, Sequential
from .conv import Conv2d, ConvTranspose2d
from .linear import Identity, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .preprocess import Normalize
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .rnn import GRU, LSTM
from .transformer import (LearnedPositionalEmbedding, MultiheadAttention, SinusoidalPositionalEncoding,
                          TransformerEncoder, TransformerEncoderLayer, generate_square_subsequent_mask)
from .sparse import Embedding

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d",
    "LayerNorm", "Dropout", "Embedding", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "ReLU", "LeakyReLU",
    "GELU", "Sigmoid", "Tanh", "SiLU", "Softplus", "Softmax", "LogSoftmax", "CrossEntropyLoss", "NLLLoss",
    "MSELoss", "L1Loss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss", "Normalize", "init",
    "LSTM", "GRU", "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
    "generate_square_subsequent_mask", "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding",
]
