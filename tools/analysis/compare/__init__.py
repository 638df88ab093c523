"""The parts of ``tools/analysis/compare_original.py``.

* :mod:`.settings`: the architectures, settings and comparisons.
* :mod:`.specs`: what each worker is told to build (and the shared files).
* :mod:`.original`: the original Text4Vis code, imported from a checkout.
* :mod:`.ours`: our package, from this or another source tree.
* :mod:`.worker`: one model in a worker process, and its passes.
* :mod:`.process`: the JSON-line protocol between the tool and a worker.
* :mod:`.measure`: interleaved timing and peak memory, driven from the tool.
* :mod:`.agreement`: top-1 agreement of fast settings with fp32 on videos.
* :mod:`.report`: the machine, the summary and its markdown tables.

Nothing here imports torch at import time: the tool's parent process and
``--help`` stay light, and each worker imports what its model needs.
"""
