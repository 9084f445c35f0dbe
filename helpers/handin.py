"""Before handing in: which exercises of a notebook are not done yet.

Used by the last cell of every assignment (see its "How to hand in" section). Pure: it reads
the names a notebook defined and the source of its functions, and changes nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence

STUB = "NotImplementedError"


def _sources(value) -> list[str]:
    """The source of a function, or of each function a class defines; [] when it cannot be read."""
    functions = [value] if inspect.isfunction(value) else []
    if inspect.isclass(value):
        functions = [f for f in vars(value).values() if inspect.isfunction(f)]
    sources = []
    for function in functions:
        try:
            sources.append(inspect.getsource(function))
        except (OSError, TypeError):
            continue
    return sources


def unfinished(namespace: Mapping[str, object], exercises: Mapping[str, Sequence[str]]) -> list[str]:
    """The exercises whose answer is missing or still the stub.

    Parameters
    ----------
    namespace : mapping
        The notebook's names, e.g. ``globals()``.
    exercises : mapping of str to sequence of str
        Each exercise's label (``"2.1 DeepNetReLU"``) and the names its answer defines.

    Returns
    -------
    list of str
        Labels, in the given order, of exercises with a name not defined, or a function or class whose
        source still raises ``NotImplementedError``.
    """
    missing = []
    for label, names in exercises.items():
        undefined = any(name not in namespace for name in names)
        stubbed = any(STUB in source for name in names if name in namespace for source in _sources(namespace[name]))
        if undefined or stubbed:
            missing.append(label)
    return missing


def report(namespace: Mapping[str, object], exercises: Mapping[str, Sequence[str]]) -> str:
    """A line for the student: the exercises still to do, or that every exercise is answered."""
    left = unfinished(namespace, exercises)
    if not left:
        return (
            f"All {len(exercises)} coded exercises are answered. Check that every Think! answer no longer says "
            "YOUR ANSWER HERE, save the notebook, and hand it in."
        )
    return f"Not done yet ({len(left)} of {len(exercises)}): " + "; ".join(left) + ". Run their cells, then this one."
