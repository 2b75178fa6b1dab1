"""Model families with PyTorch / Hugging Face parameter names, so their checkpoints load as
they are: ResNets (torchvision names), pre-activation ResNet-18, BERT-family encoders and heads,
an encoder-only Transformer classifier and the DCGAN pair."""

from .bert import (BertConfig, BertForSequenceClassification, BertForTokenClassification, BertModel,
                   mean_pooling)
from .gan import DCGANDiscriminator, DCGANGenerator, dcgan_init
from .text_classifier import TransformerClassifier
from .resnet import BasicBlock, PreActBlock, PreActResNet, ResNet, preact_resnet18, resnet18, resnet34

__all__ = [
    "BertConfig", "BertModel", "BertForSequenceClassification", "BertForTokenClassification", "mean_pooling",
    "ResNet", "BasicBlock", "PreActResNet", "PreActBlock", "resnet18", "resnet34", "preact_resnet18",
    "TransformerClassifier", "DCGANGenerator", "DCGANDiscriminator", "dcgan_init",
]
