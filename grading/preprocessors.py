"""nbgrader preprocessors that make a submission be graded as the instructor wrote it.

:class:`NormaliseSubmission` runs in autograde's sanitize stage, before nbgrader's
own ``OverwriteCells`` (which then checks and restores locked cells against the
gradebook) and before execution:

* every cell loses its tags and all metadata except nbgrader's, so tags such as
  ``skip-execution`` or ``raises-exception`` cannot change what runs;
* a cell whose nbgrader metadata names a grade_id the gradebook does not know,
  or repeats a grade_id seen earlier, is demoted to an ordinary cell (a test cell
  copied by the student then grades nothing);
* a cell with a known grade_id gets back the instructor's cell type and nbgrader
  metadata; a locked or test cell also gets back its source;
* a test or locked cell missing from the submission is put back after the cell
  that precedes it in the instructor's notebook.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
import threading
import time
from html import unescape as html_unescape
from pathlib import Path

import nbformat
import zmq
from nbclient.util import run_sync
from nbconvert.exporters.exporter import ResourcesDict
from nbconvert.preprocessors import CellExecutionError
from nbformat.notebooknode import NotebookNode
from nbformat.validator import NotebookValidationError
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Enum, Integer, List, Unicode

from . import hidden
from .channel import MessageBudget, SocketFolderWatch, bound_channels, bounded_context
from .remote import MIME, KernelStopped, Limits, TestRunner, error_output
from .tree import remove_tree


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


class NormaliseSubmission(NbGraderPreprocessor):
    """Restore the instructor's structure of a submitted notebook before it is executed."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        notebook_id = resources["nbgrader"]["notebook"]
        assignment_id = resources["nbgrader"]["assignment"]
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            master = gb.find_notebook(notebook_id, assignment_id)
            source_cells = {c.name: (c.cell_type, c.source, c.locked) for c in master.source_cells}
            order = [c.name for c in master.source_cells]  # the gradebook keeps notebook order
            grade_cells = {c.name: c for c in master.grade_cells}
            solution_ids = {c.name for c in master.solution_cells}
            expected = {}
            for name, (_cell_type, _source, locked) in source_cells.items():
                meta = {"grade": name in grade_cells, "grade_id": name, "locked": bool(locked)}
                meta["solution"] = name in solution_ids
                if name in grade_cells:
                    meta["points"] = grade_cells[name].max_score
                meta["schema_version"] = 3
                expected[name] = meta

        seen: set[str] = set()
        kept = []
        for cell in nb.cells:
            nbgrader_meta = dict(cell.get("metadata", {}).get("nbgrader", {}))
            cell.metadata = NotebookNode({"nbgrader": nbgrader_meta} if nbgrader_meta else {})
            name = _grade_id(cell)
            if name is None:
                cell.metadata.pop("nbgrader", None)
                kept.append(cell)
                continue
            if name not in source_cells or name in seen:
                self.log.warning("demoting cell with unknown or repeated grade_id %r to an ordinary cell", name)
                cell.metadata.pop("nbgrader", None)
                if cell.cell_type == "code" and name in seen and not expected.get(name, {}).get("solution", True):
                    continue  # a copy of a test cell grades nothing: drop it
                kept.append(cell)
                continue
            seen.add(name)
            kept.append(self._restore(cell, name, source_cells[name], expected[name]))

        missing = [name for name in order if name not in seen and not expected[name]["solution"]]
        for name in missing:
            self.log.warning("cell %r was missing from the submission: put back", name)
            position = order.index(name)
            previous = {n for n in order[:position]}
            index = 0
            for i, cell in enumerate(kept):
                if _grade_id(cell) in previous:
                    index = i + 1
            cell = nbformat.v4.new_code_cell() if source_cells[name][0] == "code" else nbformat.v4.new_markdown_cell()
            kept.insert(index, self._restore(cell, name, source_cells[name], expected[name]))
            seen.add(name)
        nb.cells = kept
        return nb, resources

    @staticmethod
    def _restore(cell, name, master, meta) -> NotebookNode:
        cell_type, source, locked = master
        is_solution = meta["solution"]
        keep_source = cell.get("source", "") if is_solution else source
        if cell.cell_type != cell_type or not is_solution:
            new = (
                nbformat.v4.new_code_cell(keep_source)
                if cell_type == "code"
                else nbformat.v4.new_markdown_cell(keep_source)
            )
            if "id" in cell:
                new.id = cell.id
            cell = new
        cell.metadata = NotebookNode({"nbgrader": NotebookNode(dict(meta))})
        return cell


# What a student's Markdown may become in the formgrader and in feedback: text formatting, lists, tables, code,
# links to web pages and images, never scripts, event handlers, frames, styles or javascript: links.
_ANSWER_TAGS = frozenset(
    "a abbr b blockquote br code dd del div dl dt em h1 h2 h3 h4 h5 h6 hr i img kbd li ol p pre s span strong "
    "sub sup table tbody td th thead tr ul".split()
)
_IMAGE_SOURCE = re.compile(r"(https?://|attachment:|data:image/(png|jpeg|gif|webp);base64,)", re.IGNORECASE)
_ATTACHED = re.compile(r'src="attachment:([^"]*)"')
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


_LINK_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in ("title", "alt") or (tag in ("td", "th") and name == "align"):
        return True
    if name == "class" and tag in ("a", "span", "div", "pre", "code"):  # anchor links, highlighted code
        return True
    if name == "id" and tag in ("h1", "h2", "h3", "h4", "h5", "h6"):  # what the anchor links point to
        return True
    if tag == "a" and name == "href":  # a web page, an e-mail address, or a place in the notebook
        scheme = _LINK_SCHEME.match(re.sub(r"[\s\x00-\x1f]", "", value).lower())
        return scheme is None or scheme.group(1) in ("http", "https", "mailto")
    return tag == "img" and name == "src" and bool(_IMAGE_SOURCE.match(value))


def _clean(html: str) -> str:
    import bleach

    return bleach.clean(
        html,
        tags=_ANSWER_TAGS,
        attributes=_allowed_attribute,
        protocols=["http", "https", "mailto", "attachment", "data"],
        strip=True,
        strip_comments=True,
    )


def sanitized_markdown(source: str, attachments: dict | None = None) -> str:
    """A Markdown cell's source as safe HTML that renders the same (one HTML block that Markdown passes through).

    nbgrader's formgrade and feedback templates render Markdown cells without nbconvert's
    ``sanitize_html``; this is what they then show of a student's cell. Images attached to
    the cell are embedded (PNG, JPEG, GIF, WebP), others dropped.
    """
    return _safe_block(_rendered(source)[0], attachments)


def _rendered(source: str) -> tuple[str, bool]:
    """A Markdown source rendered and cleaned, and whether cleaning left the rendering exactly as it was."""
    from nbconvert.filters import markdown2html

    html = markdown2html(source)
    cleaned = _clean(html)
    return cleaned, "attachment:" not in html and cleaned == html


def _safe_block(html: str, attachments) -> str:
    """Cleaned ``html`` with the cell's attached images embedded, as one block Markdown passes through."""
    attachments = attachments if isinstance(attachments, dict) else {}

    def embed(match: re.Match) -> str:
        bundle = attachments.get(html_unescape(match.group(1)), {})
        bundle = bundle if isinstance(bundle, dict) else {}
        kind = next((k for k in _IMAGE_TYPES if isinstance(bundle.get(k), str)), None)
        data = re.sub(r"\s", "", bundle[kind]) if kind else ""
        return f'src="data:{kind};base64,{data}"' if kind and re.fullmatch(r"[A-Za-z0-9+/=]*", data) else 'src=""'

    html = _ATTACHED.sub(embed, html)
    # no line breaks: a blank line would end the HTML block and let Markdown parse the rest again
    return '<div class="course-answer">' + html.replace("\r", "").replace("\n", "&#10;") + "</div>"


def renders_safely(source: str) -> bool:
    """Whether a Markdown cell renders to HTML that the allow-list leaves exactly as it is (nothing to sanitise)."""
    return _rendered(source)[1]


class SanitizeMarkdown(NbGraderPreprocessor):
    """Turn every Markdown cell a student could have written, and that needs it, into safe HTML.

    Runs in autograde's sanitize stage after :class:`NormaliseSubmission`, so the autograded
    notebook, which the formgrader and feedback render, holds no script of the student's. A cell
    whose rendering the allow-list leaves as it is (:func:`renders_safely`: the instructor's text, an
    untouched answer stub, plain prose) is left alone, so nbgrader still sees an unanswered written
    answer as unchanged (and scores it 0); any other one becomes :func:`sanitized_markdown`. Locked
    cells, whose source is the instructor's (restored from the gradebook), are never touched. (Raw
    cells need nothing: the templates render them through nbconvert's ``clean_html``.)
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "markdown" or cell.get("metadata", {}).get("nbgrader", {}).get("locked"):
            return cell, resources
        cleaned, safe = _rendered(cell.source)  # rendered once: judged, then used
        if safe:
            return cell, resources
        cell.source = _safe_block(cleaned, cell.get("attachments"))
        cell.pop("attachments", None)
        return cell, resources


class HideHiddenTests(NbGraderPreprocessor):
    """For feedback: show which test failed and its message, never a hidden test's source.

    In every graded test cell, each region that nbgrader's own ``ClearHiddenTests`` strips from
    the release (a line *containing* its ``begin_test_delimeter``, ``BEGIN HIDDEN TESTS`` by
    default, up to a line containing its ``end_test_delimeter``; read from the same
    configuration) becomes one comment, and an error's traceback (which quotes the failing
    source line) is cut down to its last line, e.g. ``AssertionError: ...``. One rule in one
    place: any marker nbgrader accepts for the release is hidden here too.
    """

    def preprocess(self, nb, resources):
        self._marks = hidden.delimiters(self.config)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        from nbgrader import utils

        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
            return cell, resources
        secret = hidden.hidden_lines(cell.source, getattr(self, "_marks", hidden.DEFAULT))
        lines = []
        for number, line in enumerate(cell.source.split("\n"), start=1):
            if number not in secret:
                lines.append(line)
            elif number - 1 not in secret:
                lines.append("# (hidden tests: not shown)")
        cell.source = "\n".join(lines)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


class TrustedExecute(Execute):
    """nbgrader's Execute, except that test cells run here, in the grading process, not in the kernel.

    Ordinary and solution cells run in the student's (sandboxed) kernel, in order.
    Each autograded test cell is taken from the gradebook (never from the submission)
    and executed by :class:`grading.remote.TestRunner` in this process: names the
    student defined are fetched from the kernel as plain data or remote handles, and
    the cell's outputs (what the test printed, and its error if it failed) are set
    here and set again after the last cell, so nothing the kernel sends can change a
    verdict. A kernel that dies (``os._exit``, a crash, out of memory) or stops
    answering does not abort the submission: earlier tests keep their points, every
    later code cell gets an error output saying it did not run.
    """

    setup_cells = List(
        ["setup"],
        help="grade_ids of the instructor's setup cells. They run in the grading process, from the "
        "gradebook's copy, to define the names tests use (checks, stimuli, data); every other name a "
        "test reads comes from the student's kernel.",
    ).tag(config=True)

    sandbox_kernel = Unicode(
        "course-sandbox",
        help="The sandboxed kernelspec (installed by `make setup`, see grading/sandbox.py) that runs every "
        "submission. Without bubblewrap it refuses to start, so grading fails loudly rather than run unsandboxed.",
    ).tag(config=True)

    shutdown_kernel = Enum(
        ["graceful", "immediate"],
        default_value="immediate",
        help="How the kernel ends after the last cell. 'immediate' kills it at once: every output is already in "
        "and the sandbox is thrown away, so a graceful shutdown only waits (about a second per submission in "
        "`make bench`), and no student code runs at exit.",
    ).tag(config=True)

    display_modules = List(
        ["matplotlib", "helpers.plotting", "helpers.widgets", "IPython.display", "ipywidgets"],
        help="Modules of the setup cell that only draw or print. The grader does not import them, nor call what "
        "they define, when it runs the setup cell for the tests (faster; tests never draw).",
    ).tag(config=True)

    max_output_bytes = Integer(
        16 * 1024**2,
        help="Bytes of output the student's cells of one notebook may keep; later outputs are dropped with a "
        "note (the answers of test requests do not count).",
    ).tag(config=True)

    max_notebook_seconds = Integer(
        1800,
        help="Seconds one notebook may run in all; the cells after that are marked as not run.",
    ).tag(config=True)

    allow_unsandboxed = Bool(
        False,
        help="Opt out of the sandbox: grade with Execute.kernel_name (or the notebook's kernel). Student code "
        "then runs with your permissions; each kernel still gets a fresh working and home folder.",
    ).tag(config=True)

    store_widget_state = Bool(
        False, help="nbclient's option, off for grading: no widget state (the kernel's comm traffic) is stored."
    ).tag(config=True)

    max_socket_entries = Integer(
        64,
        help="Entries the sandboxed kernel may have in its IPC socket folder, the one host folder it can write to "
        "(a kernel binds five sockets). The folder is looked at ten times a second; past this, or on anything "
        "there that is not a socket, the kernel is killed and the rest of the notebook marked as not run.",
    ).tag(config=True)

    max_socket_folder_bytes = Integer(
        2**20,
        help="Largest size, in bytes, of the IPC socket folder's own list of names (see max_socket_entries).",
    ).tag(config=True)

    max_kernel_bytes = Integer(
        256 * 2**20,
        help="Bytes of messages the kernel may send over one notebook, on all channels together (outputs, display "
        "updates, comm and widget traffic, replies, the answers to test requests), counted frame by frame as they "
        "arrive, before anything is decoded or stored. Past it the grader stops reading and kills the kernel; the "
        "notebook is graded on what ran before. (The reference answers of the day send at most about 6 MiB.)",
    ).tag(config=True)

    max_frame_bytes = Integer(
        20 * 2**20,
        help="Largest frame of a kernel message, in bytes: ZeroMQ drops a connection that announces a larger "
        "one before reading it (MAXMSGSIZE). Keep it above max_reply_bytes.",
    ).tag(config=True)

    max_reply_bytes = Integer(
        16 * 2**20,
        help="Largest answer, in bytes, the student's kernel may give to one request of a test (the values a "
        "test reads: arrays, tensors, module states; the day's largest reference answer is about 0.5 MB). A "
        "larger answer fails that test.",
    ).tag(config=True)

    max_requests = Integer(
        2000,
        help="Requests one test cell may make to the student's kernel (a handle posing as a huge sequence "
        "cannot keep the grader busy).",
    ).tag(config=True)

    max_grader_growth_bytes = Integer(
        2 * 2**30,
        help="Bytes the grading process's own resident memory may grow by while one notebook's kernel runs. "
        "ZeroMQ's I/O thread queues what the kernel sends before the message budget counts it (and never hands "
        "over a message whose last frame does not come); the grader looks ten times a second and past this kills "
        "the kernel, which frees the queue. 0: not watched.",
    ).tag(config=True)

    max_test_seconds = Integer(
        600,
        help="Seconds one test cell's requests may take together; the notebook's deadline (max_notebook_seconds) "
        "holds as well.",
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        scratch = Path(tempfile.mkdtemp(prefix="course-kernel-"))
        run = dict(resources or {})
        run["metadata"] = {**run.get("metadata", {}), "path": str(scratch)}
        self._scratch = scratch
        self._overflow = None
        self._watch = None
        self._context = None
        self._budget = MessageBudget(self.max_kernel_bytes, self._stop_kernel)
        # the notebook's deadline interrupts whatever runs: a cell, a test's requests, a kernel that hangs
        self._deadline = time.monotonic() + self.max_notebook_seconds
        timer = threading.Timer(
            self.max_notebook_seconds,
            self._stop_kernel,
            args=(f"the notebook ran longer than {self.max_notebook_seconds} s",),
        )
        timer.daemon = True
        timer.start()
        try:
            nb, _ = self._preprocess(nb, run, km)
            return nb, resources
        finally:
            timer.cancel()
            if self._watch is not None:
                self._watch.stop()
            if self._context is not None:
                self._context.destroy(linger=0)  # its I/O threads and sockets, now
            if getattr(self, "_setup", None) is not None:
                self._setup.join(timeout=60)  # the instructor's setup, run here, ends with its notebook
            try:
                remove_tree(scratch)  # by descriptor, whatever depth; never follows a link a kernel left
            except OSError as err:
                self.log.warning("could not remove the kernel's scratch folder %s (%s)", scratch, err)

    def create_kernel_manager(self):
        """The sandbox kernel, whatever the notebook or Execute.kernel_name say, unless opted out.

        It talks over IPC sockets in a folder of this run (it has no network).
        """
        if not self.allow_unsandboxed:
            self.kernel_name = self.sandbox_kernel  # set here: nbconvert re-reads the configuration before
        km = super().create_kernel_manager()
        # the manager's own control socket only sends (shutdown, interrupt): let it take in next to nothing
        km.context.setsockopt(zmq.MAXMSGSIZE, 2**16)
        km.context.setsockopt(zmq.RCVHWM, 1)
        if self.kernel_name == self.sandbox_kernel:
            (self._scratch / "ipc").mkdir(exist_ok=True)
            km.transport = "ipc"
            km.ip = str(self._scratch / "ipc" / "kernel")
        return km

    async def async_start_new_kernel(self, **kwargs):
        """Start the kernel in the scratch folder, with a home folder of its own (the sandbox makes its own too)."""
        env = dict(os.environ)
        env.update(HOME=str(self._scratch), IPYTHONDIR=str(self._scratch / ".ipython"))
        env.pop("JUPYTER_CONFIG_DIR", None)
        kwargs.setdefault("env", env)
        kwargs["cwd"] = str(self._scratch)
        await super().async_start_new_kernel(**kwargs)
        # the socket folder (sandboxed kernels only) and the grader's own memory, ten times a second
        self._watch = SocketFolderWatch(
            self._scratch / "ipc" if self.kernel_name == self.sandbox_kernel else None,
            max_entries=self.max_socket_entries,
            max_bytes=self.max_socket_folder_bytes,
            on_breach=self._stop_kernel,
            allowed=frozenset({os.path.basename(self.km.connection_file)}),
            max_growth=self.max_grader_growth_bytes,
        ).start()
        # while the kernel starts and runs the first cells, run the setup cell here (imports, data)
        self._setup = threading.Thread(target=self._make_runner, name="course-test-setup", daemon=True)
        self._setup.start()

    start_new_kernel = run_sync(async_start_new_kernel)  # nbclient binds the base class's coroutine otherwise

    async def async_start_new_kernel_client(self):
        """nbclient's client, with only shell and iopub, each counting what it receives (:mod:`grading.channel`)."""
        from nbclient.util import ensure_async, run_hook

        self._context = bounded_context(self.max_frame_bytes)
        self.kc = self.km.client(context=self._context)
        try:
            # only the channels the grader reads: ZeroMQ would queue what arrives on the others, uncounted
            await ensure_async(self.kc.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=False))
            bound_channels(self.kc, self._budget)
            await ensure_async(self.kc.wait_for_ready(timeout=self.startup_timeout))
        except Exception:
            await self._async_cleanup_kernel()
            raise
        self.kc.allow_stdin = False
        await run_hook(self.on_notebook_start, notebook=self.nb)
        return self.kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _stop_kernel(self, reason: str) -> None:
        """Kill the kernel now (from any thread); the cell running and every later one report ``reason``."""
        if self._overflow is None:
            self._overflow = reason
        km = getattr(self, "km", None)
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is not None:
            try:
                process.kill()
            except OSError:
                pass

    def _make_runner(self) -> None:
        try:
            self._runner = TestRunner(self._setup_sources, tuple(self.display_modules))
        except Exception as err:  # noqa: BLE001  (reported by every test cell)
            self._setup_failure = f"{type(err).__name__}: {err}"

    def _preprocess(self, nb, resources, km):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            master = gb.find_notebook(info["notebook"], info["assignment"])
            sources = {c.name: c.source for c in master.source_cells}
            solutions = {c.name for c in master.solution_cells}
            self._tests = {
                c.name: sources[c.name] for c in master.grade_cells if c.cell_type == "code" and c.name not in solutions
            }
        self._setup_sources = [sources[name] for name in self.setup_cells if name in sources]
        self._marks = hidden.delimiters(self.config)
        self._runner = None  # made while the kernel starts (async_start_new_kernel)
        self._setup = None
        self._setup_failure = "the kernel did not start"
        self._stopped = None
        self._verdicts: dict[int, list] = {}
        self._output_bytes, self._in_probe, self._probe_bytes = 0, False, 0
        try:
            nb, resources = super().preprocess(nb, resources, km=km)
        except Exception:  # noqa: BLE001  (whatever stopped the kernel, the notebook is still graded)
            if self._stopped is None:
                raise
            self.log.warning("kernel stopped (%s): later cells marked as not run", self._stopped)
        self.log.info("the kernel sent %.1f MiB of messages", self._budget.used / 2**20)
        for index, outputs in self._verdicts.items():
            nb.cells[index].outputs = copy.deepcopy(outputs)
        _keep_valid(nb)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        if self._stopped is not None:
            if cell.cell_type == "code":
                cell.outputs = [error_output("NotRun", f"not run: the kernel stopped earlier ({self._stopped})")]
                self._verdicts[index] = cell.outputs
            return cell, resources
        if cell.cell_type == "code" and (self._overflow is not None or time.monotonic() > self._deadline):
            self._stopped = self._overflow or f"the notebook ran longer than {self.max_notebook_seconds} s"
            return self.preprocess_cell(cell, resources, index)
        name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and name in self._tests:
            # the student's code before this test (locked cells, the setup and tests, are the instructor's)
            earlier = [
                c.source
                for c in self.nb.cells[:index]
                if c.cell_type == "code" and not c.get("metadata", {}).get("nbgrader", {}).get("locked")
            ]
            if self._setup is not None:
                self._setup.join()
            try:
                if self._runner is None:
                    raise KernelStopped(f"the grader could not run the setup cell ({self._setup_failure})")
                limits = Limits(self.max_reply_bytes, self.max_requests, self.max_test_seconds, self._deadline)
                secret = hidden.hidden_lines(self._tests[name], self._marks)
                outputs = self._runner.run(
                    self._tests[name], name, lambda code: self._in_kernel(code, index), earlier, limits, secret
                )
            except KernelStopped as err:
                self._stopped = str(err)
                outputs = [error_output("KernelStopped", f"the kernel stopped during this test ({err})")]
            self.nb.cells[index] = cell
            cell.outputs = outputs
            self._verdicts[index] = outputs
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except Exception as err:  # noqa: BLE001
            if isinstance(err, CellExecutionError) and self._overflow is None:
                raise
            self._stopped = self._overflow or _reason(err)
            cell.outputs = list(cell.get("outputs", [])) + [error_output(type(err).__name__, self._stopped)]
            return cell, resources

    def _in_kernel(self, code: str, index: int) -> list:
        """Run ``code`` in the student's kernel as a scratch cell; its outputs (never stored in the notebook)."""
        probe = NotebookNode(cell_type="code", source=code, metadata=NotebookNode(), outputs=[], execution_count=None)
        self._in_probe, self._probe_bytes = True, 0
        try:
            super().execute_cell(probe, index, store_history=False)
        except CellExecutionError:
            pass
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as err:  # noqa: BLE001  (dead or unresponsive kernel, or a panic below)
            raise KernelStopped(self._overflow or _reason(err)) from None
        finally:
            self._in_probe = False
            self.clear_display_id_mapping(index)  # a later display update must not reach the verdict
        return list(probe.get("outputs", []))

    def process_message(self, msg, cell, cell_index):
        """nbclient's handling of one kernel message, except that a malformed one is dropped, not fatal.

        A student's kernel can send any message (a forged ``execution_count``, an output nbformat
        rejects); nbclient would raise and nbgrader then lose the whole submission.
        """
        content = msg.get("content")
        if isinstance(content, dict) and type(content.get("execution_count", 0)) is not int:
            content["execution_count"] = None
        try:
            return super().process_message(msg, cell, cell_index)
        except (nbformat.ValidationError, NotebookValidationError, TypeError, AttributeError, KeyError) as err:
            self.log.warning("dropped a malformed %r message from the kernel (%s)", msg.get("msg_type"), _reason(err))
            return None

    def _update_display_id(self, display_id, msg):
        """nbclient's update of every output shown under ``display_id``, counted against max_output_bytes.

        One update replaces every output that carries the id, so it costs its size times their number.
        During a test's request nothing is updated (what the student's code displays then is dropped).
        """
        if self._in_probe:
            return None
        shown = sum(len(places) for places in self._display_id_map.get(display_id, {}).values())
        self._output_bytes += _size(msg.get("content", {})) * max(shown, 1)
        if self._output_bytes > self.max_output_bytes:
            return None
        return super()._update_display_id(display_id, msg)

    def on_cell_executed(self, **kwargs):
        """nbgrader's record of an error reply that came without an error output, within the outputs' budget.

        The kernel writes that reply: its ``evalue`` and ``traceback`` count against :attr:`max_output_bytes`
        like any output, and past it only a note is kept. During a test's request nothing is recorded.
        """
        reply = kwargs.get("execute_reply")
        content = reply.get("content") if isinstance(reply, dict) else None
        if isinstance(content, dict) and content.get("status") == "error":
            if self._in_probe:
                return None
            self._output_bytes += _size({key: content.get(key) for key in ("ename", "evalue", "traceback")})
            if self._output_bytes > self.max_output_bytes:
                note = f"[the error's text dropped: the notebook's outputs exceed {self.max_output_bytes} bytes]"
                content = dict(content, ename=str(content.get("ename"))[:80], evalue=note, traceback=[note])
                kwargs["execute_reply"] = dict(reply, content=content)
        return super().on_cell_executed(**kwargs)

    def handle_comm_msg(self, outs, msg, cell_index):
        """Comm (widget) messages are counted by the channel and otherwise ignored: grading keeps no widget state."""
        return None

    def output(self, outs, msg, display_id, cell_index):
        """Keep a student's outputs within :attr:`max_output_bytes` for the whole notebook.

        During a test's request only the agent's answer and an error are kept, within the answer's size
        limit; whatever else the student's code prints or displays meanwhile is dropped unread.
        """
        content = msg.get("content", {})
        if self._in_probe:
            answer = msg.get("msg_type") == "display_data" and MIME in content.get("data", {})
            if not (answer or msg.get("msg_type") == "error"):
                return None
            self._probe_bytes += _size(content)
            if self._probe_bytes > self.max_reply_bytes + 2**20:
                return None
        else:
            self._output_bytes += _size(content)
            if self._output_bytes > self.max_output_bytes:
                note = f"[output dropped: the notebook's outputs exceed {self.max_output_bytes} bytes]\n"
                if not any(o.get("text") == note for o in outs):
                    outs.append(NotebookNode(output_type="stream", name="stdout", text=note))
                return None
        return super().output(outs, msg, display_id, cell_index)


def _keep_valid(nb) -> None:
    """Drop what the kernel sent that nbformat rejects (a forged ``execution_count``, a malformed output).

    nbgrader would otherwise refuse to write the notebook and lose the whole submission.
    """
    invalid = (nbformat.ValidationError, NotebookValidationError)
    try:
        nbformat.validate(nb)
        return
    except invalid:
        pass
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("execution_count") is not None and type(cell.get("execution_count")) is not int:
            cell.execution_count = None
        kept = []
        for output in cell.get("outputs", []):
            if "execution_count" in output and type(output.get("execution_count")) is not int:
                output["execution_count"] = None
            try:
                nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[output])]))
                kept.append(output)
            except invalid:
                kept.append(NotebookNode(output_type="stream", name="stdout", text="[an invalid output was dropped]\n"))
        cell.outputs = kept


def _size(value) -> int:
    """About how many bytes a message's content takes in memory, without copying it.

    Strings count their length; every dict, list, key and other value also counts 64 bytes, about what
    it costs decoded (so a list of a million empty dicts is not "small").
    """
    total, todo = 0, [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str | bytes):
            total += len(item) + 64
        elif isinstance(item, dict):
            total += 64 + sum(len(str(k)) + 64 for k in item)
            todo += item.values()
        elif isinstance(item, list | tuple):
            total += 64
            todo += item
        else:
            total += 64
    return total


def _reason(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0][:200] if text else ''}"
