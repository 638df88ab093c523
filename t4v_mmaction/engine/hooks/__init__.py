from .exact_resume_hook import ExactResumeHook
from .video_data_hook import VideoDataHook

__all__ = ['VideoDataHook', 'ExactResumeHook']
