"""Fresh copies of what the test cells use, loaded anew before every autograded test cell.

At autograde time :class:`grading.preprocessors.AddTestPrologue` puts one line
in front of every test cell that executes this file from disk (not from
``sys.modules``) and rebinds the names below in the notebook. Whatever the
student's code did to ``checks``, ``filter_bank`` or ``gratings`` (rebinding
them or their attributes), the test then uses pristine functions.
"""

from __future__ import annotations

import importlib.util
import sys

PROLOGUE = (
    "import importlib.util as _u; _s = _u.find_spec('grading.prologue'); _m = _u.module_from_spec(_s); "
    "_s.loader.exec_module(_m); globals().update(_m.fresh()); del _u, _s, _m  # autograder: fresh test helpers"
)


def _load(name: str):
    """Execute module ``name`` from its file into a new module object (not registered)."""
    spec = importlib.util.find_spec(name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fresh() -> dict[str, object]:
    """Names a test cell may use, bound to freshly loaded objects."""
    checks = _load("helpers.checks")
    filters = _load("helpers.filters")
    stimuli = _load("helpers.stimuli")
    return {
        "checks": checks,
        "filter_bank": filters.filter_bank,
        "gabor": filters.gabor,
        "grating": stimuli.grating,
        "gratings": stimuli.gratings,
        "torch": sys.modules["torch"],
        "np": sys.modules["numpy"],
        "nn": sys.modules["torch.nn"],
        "F": sys.modules["torch.nn.functional"],
    }
