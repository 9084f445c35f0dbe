"""Where a test cell's hidden tests are: the one rule, read from nbgrader's own configuration.

nbgrader's ``ClearHiddenTests`` strips from the release every region that starts at a line
*containing* its ``begin_test_delimeter`` (``BEGIN HIDDEN TESTS`` by default) and ends at a
line containing its ``end_test_delimeter``. Feedback hides exactly those regions
(:class:`grading.preprocessors.HideHiddenTests`), and the trusted test runner tells a failure
of a hidden line from a failure of a visible one (:class:`grading.remote.TestRunner`), both
through :func:`hidden_lines`.
"""

from __future__ import annotations

DEFAULT = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def delimiters(config=None) -> tuple[str, str]:
    """The begin and end delimiters nbgrader's ``ClearHiddenTests`` uses under ``config``.

    Parameters
    ----------
    config : traitlets.config.Config, optional
        The nbgrader configuration (``c.ClearHiddenTests.begin_test_delimeter`` and
        ``end_test_delimeter``); nbgrader's defaults when None.

    Returns
    -------
    tuple of str
        ``(begin, end)``.
    """
    from nbgrader.preprocessors import ClearHiddenTests

    release = ClearHiddenTests(config=config) if config is not None else ClearHiddenTests()
    return release.begin_test_delimeter, release.end_test_delimeter


def hidden_lines(source: str, marks: tuple[str, str] = DEFAULT) -> frozenset[int]:
    """The 1-based numbers of the lines of ``source`` that the release does not show.

    Parameters
    ----------
    source : str
        A test cell's source, as the gradebook holds it.
    marks : tuple of str
        ``(begin, end)`` from :func:`delimiters`.

    Returns
    -------
    frozenset of int
        Every line from one containing ``begin`` up to and including the next containing
        ``end`` (or to the end of the cell when none follows), as ``ClearHiddenTests`` strips.
    """
    begin, end = marks
    hidden, inside = set(), False
    for number, line in enumerate(source.split("\n"), start=1):
        if begin in line:
            inside = True
        if inside:
            hidden.add(number)
        if inside and end in line and begin not in line:
            inside = False
    return frozenset(hidden)
