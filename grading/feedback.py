"""Feedback pages run no script: nbgrader's ``generate_feedback`` writes them, this adds a Content-Security-Policy.

:func:`add_content_security_policy` is ``GenerateFeedback``'s ``post_convert_hook`` (``nbgrader_config.py``), so
it runs on every path that writes feedback: plain ``nbgrader generate_feedback``, the formgrader's button and
``course grade`` (whose workers run nbgrader with the same configuration). The policy, first thing in
``<head>``, forbids inline script and event handlers, and every script but MathJax from its CDN (which the
template loads for formulas); images only as ``data:`` URIs, styles only inline, no frames, forms or
connections. It is a second wall: student outputs and Markdown are already reduced to an allow-list
(``grading.outputs``, ``SanitizeMarkdown``) before any template renders them.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

log = logging.getLogger(__name__)

POLICY = (
    "default-src 'none'; script-src https://cdnjs.cloudflare.com; img-src data:; style-src 'unsafe-inline'; "
    "font-src data: https://cdnjs.cloudflare.com; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
META = f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
_HEAD = re.compile(r"<head(\s[^>]*)?>", flags=re.IGNORECASE)


def with_policy(html: str) -> str:
    """``html`` with :data:`META` as the first element of its ``<head>`` (once)."""
    if META in html:
        return html
    match = _HEAD.search(html)
    if match is None:
        return META + "\n" + html
    return html[: match.end()] + "\n" + META + html[match.end() :]


def add_content_security_policy(assignment: str, student: str, notebooks: list[str], **_) -> list[Path]:
    """GenerateFeedback's post_convert_hook: add the policy to each feedback page just written; returns them.

    ``notebooks`` are the autograded notebooks (``<course>/autograded/<student>/<assignment>/<name>.ipynb``); each
    page is ``<course>/feedback/<student>/<assignment>/<name>.html``.
    """
    done = []
    for notebook in notebooks:
        path = Path(notebook)
        page = path.parents[3] / "feedback" / student / assignment / f"{path.stem}.html"
        if page.is_symlink() or not page.is_file():
            log.warning("no feedback page %s to protect", page)
            continue
        mode = page.stat().st_mode
        os.chmod(page, mode | 0o200)
        tmp = page.with_name(page.name + ".tmp")
        tmp.write_text(with_policy(page.read_text(encoding="utf-8")), encoding="utf-8")
        os.chmod(tmp, mode)
        os.replace(tmp, page)
        done.append(page)
    return done
