from .text4vis_recognizer import Text4VisRecognizer

__all__ = ['Text4VisRecognizer']
