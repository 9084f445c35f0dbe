"""The course's grading pipeline around nbgrader: submissions, autograde, feedback, reports.

Used by ``make course`` (``python -m grading.course``), ``make bench`` and the tests in
``tests/test_grading*.py``. Unlike :mod:`helpers`, this package is for instructors and
CI; notebooks never import it.
"""
