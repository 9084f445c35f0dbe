"""What nbgrader runs while it grades the course: preprocessors, hooks and the grading sandbox.

Configured in ``nbgrader_config.py``, so plain ``nbgrader autograde``, the formgrader and
the ``course`` command (:mod:`instructor`) all grade through it. Notebooks never import it;
test material lives in ``tests/``.
"""
