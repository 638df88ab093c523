from .video_data_hook import VideoDataHook

__all__ = ['VideoDataHook']
