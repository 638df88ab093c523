# Copyright (c) OpenMMLab. All rights reserved.
from .hooks import VideoDataHook

__all__ = ['VideoDataHook']
