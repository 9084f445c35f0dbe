"""Shared, tested helper code for the course *CNNs for visual neuroscience*.

Every notebook imports from here instead of copying helper cells. Importing
the package has no side effects: no seeding, no matplotlib style, no
downloads. Call :func:`helpers.plotting.use_style` and
:func:`helpers.device.set_seed` explicitly in a notebook's setup cell.

Modules
-------
stimuli
    Square-wave gratings (the course's visual stimuli).
filters
    Centre-surround and Gabor kernels, and the tutorial's filter bank.
plotting
    Figures for stimuli, kernels, activations and training curves.
device
    Device selection (CPU / CUDA) and seeding.
widgets
    ipywidgets builders for the interactive demos.
data
    Mouse V1 responses (Stringer et al., 2021): checksummed download and cache,
    or a clearly labelled simulated population when offline.
checks
    Comparisons used by the notebooks' test cells.
handin
    Before handing in: the exercises a notebook has not answered yet.
"""

__all__ = ["checks", "data", "device", "filters", "handin", "plotting", "stimuli", "widgets"]
__version__ = "0.1.0"
