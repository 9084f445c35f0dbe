"""What a student's outputs may carry into the instructor's browser: an allow-list, applied before any template.

The autograded notebook is what the formgrader and the feedback render (nbconvert's templates, which, for
example, write an image's ``width`` metadata into its ``<img>`` tag unquoted). :class:`SanitizeOutputs` runs
right after execution in ``nbgrader autograde`` (``c.Autograde.autograde_preprocessors``), so every path that
renders the notebook sees only:

* ``stream`` outputs (``stdout``/``stderr``) with their text;
* ``error`` outputs with ``ename``, ``evalue`` and the ``traceback`` as text (the grader's verdicts are errors);
* ``display_data`` / ``execute_result`` outputs with ``text/plain``, and ``image/png`` / ``image/jpeg`` whose data
  is base64 and nothing else; their metadata only ``width`` and ``height`` as positive numbers, per image type or
  at the top level. Everything else (HTML, SVG, JavaScript, Markdown, LaTeX, widget views, other metadata such as
  ``isolated``) is dropped: an output left with no data shows as ``(output not shown)``;
* any other output type is dropped.
"""

from __future__ import annotations

import math
import re

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

IMAGES = ("image/png", "image/jpeg")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
MAX_PIXELS = 100_000  # a width or height beyond this is not an image size


def _text(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return None


def _size(value) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) and 0 < value <= MAX_PIXELS else None


def _sizes(meta) -> dict:
    if not isinstance(meta, dict):
        return {}
    return {k: v for k in ("width", "height") if (v := _size(meta.get(k))) is not None}


def sanitized_output(output) -> NotebookNode | None:
    """``output`` reduced to the allow-list (see the module docstring), or None when nothing of it may stay."""
    kind = output.get("output_type") if isinstance(output, dict) else None
    if kind == "stream":
        text = _text(output.get("text"))
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return NotebookNode(output_type="stream", name=name, text=text or "")
    if kind == "error":
        traceback = output.get("traceback")
        lines = [t for t in traceback if isinstance(t, str)] if isinstance(traceback, list) else []
        return NotebookNode(
            output_type="error",
            ename=_text(output.get("ename")) or "Error",
            evalue=_text(output.get("evalue")) or "",
            traceback=lines,
        )
    if kind not in ("display_data", "execute_result"):
        return None
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    kept = {}
    plain = _text(data.get("text/plain"))
    if plain is not None:
        kept["text/plain"] = plain
    for image in IMAGES:
        encoded = _text(data.get(image))
        if encoded is not None and _BASE64.fullmatch(encoded):
            kept[image] = encoded
    if not kept:
        kept["text/plain"] = "(output not shown)"
    metadata = output.get("metadata") if isinstance(output.get("metadata"), dict) else {}
    meta = _sizes(metadata)
    for image in IMAGES:
        if image in kept and (sizes := _sizes(metadata.get(image))):
            meta[image] = sizes
    clean = NotebookNode(output_type=kind, data=kept, metadata=meta)
    if kind == "execute_result":
        count = output.get("execution_count")
        clean["execution_count"] = count if isinstance(count, int) and not isinstance(count, bool) else None
    return clean


class SanitizeOutputs(NbGraderPreprocessor):
    """Every code cell's outputs reduced to the allow-list of :func:`sanitized_output`."""

    def preprocess_cell(self, cell, resources, index):
        if cell.get("cell_type") == "code":
            outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
            cell["outputs"] = [clean for o in outputs if (clean := sanitized_output(o)) is not None]
        return cell, resources
