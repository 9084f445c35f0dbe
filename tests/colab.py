"""A notebook as Google Colab saves it after a student worked in it ("File > Download > Download .ipynb").

What Colab writes, as its saved notebooks show: nbformat 4.0 (``nbformat_minor`` 0, so no top-level cell ``id``);
notebook metadata ``colab`` (``provenance``, ``name``, ``toc_visible``), ``kernelspec`` ``python3`` /
"Python 3", ``language_info`` with only the name, ``accelerator`` and ``gpuClass`` when a GPU was chosen, and the
widget state under ``widgets`` / ``application/vnd.jupyter.widget-state+json``; per cell a ``metadata.id`` (12
letters and digits); per code cell ``metadata.colab`` (``base_uri``, ``height``), an ``outputId``, an
``execution_count`` and its outputs: streams and, for a widget, a ``application/vnd.jupyter.widget-view+json``
display whose model is in the notebook's widget state.
"""

from __future__ import annotations

import copy
import random
import string
import uuid

import nbformat

_ALPHABET = string.ascii_letters + string.digits


def as_colab_saves_it(nb: nbformat.NotebookNode, seed: int = 0) -> nbformat.NotebookNode:
    """A copy of ``nb`` with what Colab adds and removes when it saves a notebook a student ran."""
    rng = random.Random(seed)
    out = copy.deepcopy(nb)
    out.nbformat, out.nbformat_minor = 4, 0
    model = uuid.UUID(int=rng.getrandbits(128)).hex
    out.metadata = nbformat.from_dict(
        {
            "colab": {"provenance": [], "name": "t2_convolutions.ipynb", "toc_visible": True},
            "kernelspec": {"name": "python3", "display_name": "Python 3"},
            "language_info": {"name": "python"},
            "accelerator": "GPU",
            "gpuClass": "standard",
            "widgets": {
                "application/vnd.jupyter.widget-state+json": {
                    model: {
                        "model_module": "@jupyter-widgets/controls",
                        "model_name": "IntSliderModel",
                        "model_module_version": "1.5.0",
                        "state": {"value": 45, "min": 0, "max": 175, "description": "orientation"},
                    }
                }
            },
        }
    )
    for number, cell in enumerate(out.cells, start=1):
        cell.pop("id", None)
        cell.metadata["id"] = "".join(rng.choice(_ALPHABET) for _ in range(12))
        if cell.cell_type != "code":
            continue
        cell.metadata["colab"] = {"base_uri": "https://localhost:8080/", "height": 35}
        cell.metadata["outputId"] = str(uuid.UUID(int=rng.getrandbits(128)))
        cell.execution_count = number
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Visible test passed.\n")]
        if number == 2:
            cell.outputs.append(
                nbformat.v4.new_output(
                    "display_data",
                    data={
                        "application/vnd.jupyter.widget-view+json": {
                            "model_id": model,
                            "version_major": 2,
                            "version_minor": 0,
                        },
                        "text/plain": "IntSlider(value=45, description='orientation', max=175)",
                    },
                    metadata={},
                )
            )
    nbformat.validate(out)
    return out
