"""The course's own tooling that needs a source checkout: its notebooks read from ``source/`` and ``release/``
(:mod:`harness.notebooks`), scratch nbgrader courses driven through nbgrader's command line
(:mod:`harness.scratch`), and the demo that ``make course`` runs (:mod:`harness.demo`).

Not part of the installed packages: tests, ``bench/`` and ``make course`` put ``tests/`` on ``sys.path``.
"""
