"""Before handing in: which exercises of a notebook are not done yet.

Used by the last cell of every assignment (see its "How to hand in" section). Pure: it reads
the names a notebook defined and the source of its functions, and changes nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence

STUB = "NotImplementedError"

EXERCISES = {
    "t1_decoding": {
        "2.1 DeepNetReLU": ["DeepNetReLU"],
        "2.2 mse": ["mse"],
        "2.3 train": ["train"],
        "3.1 circular_error": ["circular_error"],
    },
    "t2_convolutions": {
        "1.1 conv2d_by_hand": ["conv2d_by_hand"],
        "1.2 conv_output_shape": ["conv_output_shape"],
        "3.1 ConvolutionalLayer": ["ConvolutionalLayer"],
        "3.2 layer and convout": ["layer", "convout"],
        "3.4 parameter counts": ["n_conv_parameters", "n_dense_parameters"],
        "B.1 weights (bonus)": ["weights"],
        "B.2 complex_cell_energy (bonus)": ["complex_cell_energy"],
    },
    "t3_normative": {
        "1.1 ConvNet": ["ConvNet"],
        "1.2 accuracy": ["accuracy"],
        "2.1 rdm": ["rdm"],
        "2.2 correlate_rdms": ["correlate_rdms"],
    },
    "t4_encoding": {
        "1.1 EncodingModel": ["EncodingModel"],
        "2.1 penalty": ["penalty"],
        "3.1 tuning_correlation": ["tuning_correlation"],
        "4.1 kernel_change": ["kernel_change"],
    },
}
"""Each assignment's coded exercises: label -> the names its answer defines (``tests/test_handin.py`` keeps them
equal to the solution cells). They live here, not in the notebook, so that the hand-in cell names no answer:
the grader's static checks read a cell that names an answer in a string as one that may define it."""


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


def _notebook_namespace() -> Mapping[str, object]:
    """The running notebook's names: IPython's user namespace (the interactive namespace a cell defines into)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with every Jupyter kernel
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def report(assignment: str, namespace: Mapping[str, object] | None = None) -> str:
    """A line for the student: the coded exercises of ``assignment`` still to do, or that all are answered.

    ``namespace``: the notebook's names; by default the running notebook's (IPython's user namespace).
    """
    exercises = EXERCISES[assignment]
    namespace = _notebook_namespace() if namespace is None else namespace
    left = unfinished(namespace, exercises)
    if not left:
        return (
            f"All {len(exercises)} coded exercises are answered. Check that every Think! answer no longer says "
            "YOUR ANSWER HERE, save the notebook, and hand it in."
        )
    return f"Not done yet ({len(left)} of {len(exercises)}): " + "; ".join(left) + ". Run their cells, then this one."
