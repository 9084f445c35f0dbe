"""The start-here guide lists the whole day: every assignment, in order, with links that exist."""

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "notebooks" / "00_start_here.ipynb"


def _links() -> list[str]:
    nb = nbformat.read(GUIDE, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return re.findall(r"\]\(([^)#\s]+\.ipynb)\)", text)


def test_every_link_in_the_guide_points_to_a_notebook_that_exists():
    links = _links()
    assert links, "the guide links no notebook"
    missing = [link for link in links if not (GUIDE.parent / link).resolve().exists()]
    assert not missing, f"broken links in {GUIDE.name}: {missing}"


def test_the_guide_lists_every_released_assignment_in_order():
    released = sorted(p.name for p in (ROOT / "release").iterdir() if p.is_dir())
    listed = [Path(link).parent.name for link in _links() if link.startswith("../release/")]
    assert listed == released, f"{GUIDE.name} lists {listed}, release/ has {released}"
