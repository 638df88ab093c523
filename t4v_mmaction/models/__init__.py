from .backbones import *  # noqa: F401,F403
from .classifiers import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
from .temporal_fusers import *  # noqa: F401,F403
from .temporal_mixers import *  # noqa: F401,F403
