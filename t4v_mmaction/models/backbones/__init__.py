from .clip_resnet import CLIPResNet
from .clip_vit import CLIPViT

__all__ = ['CLIPViT', 'CLIPResNet']
