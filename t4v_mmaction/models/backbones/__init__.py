from .clip_resnet import CLIPResNet
from .clip_vit import CLIPViT
from .open_clip_visual import OpenCLIPVisual
from .per_frame_backbone import PerFrameBackbone

__all__ = ['CLIPViT', 'CLIPResNet', 'OpenCLIPVisual', 'PerFrameBackbone']
