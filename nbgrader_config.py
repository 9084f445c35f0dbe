"""nbgrader configuration of the course (read by every `nbgrader` command run from this folder)."""

from nbgrader.converters import GenerateAssignment

from grading.feedback import add_content_security_policy
from grading.hooks import prepare_submission

c = get_config()  # noqa: F821  (injected by nbgrader)

c.CourseDirectory.course_id = "cnn-visual-neuroscience"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"

# What students see in place of a solution.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("Exercise not done yet: replace this line with your code.")'
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Released notebooks carry no outputs and no execution counts.
c.ClearOutput.enabled = True

# Release notebooks start where students work (Colab, Kaggle, a hub, a laptop): after nbgrader's own steps,
# StudentSetup (instructor/release.py) puts "Open in Colab" / "Open in Kaggle" badges at the top and, before
# the setup cell, a cell that installs the course's student package only when `helpers` is missing (never in
# the course's environment or the grader, whose sandbox has no network).
c.GenerateAssignment.preprocessors = [
    *GenerateAssignment.class_traits()["preprocessors"].make_dynamic_default(),
    "instructor.release.StudentSetup",
]
# The course's GitHub repository, "ORG/REPO": set it where the course is published. It is the one place
# the badges and the install source come from (c.StudentSetup.branch, c.StudentSetup.package: see --help-all).
c.StudentSetup.repository = ""

# Grading: a cell may run for at most this many seconds before it counts as failed.
c.ExecutePreprocessor.timeout = 60
c.Execute.timeout = 60

# --- Grading hardening (see grading/preprocessors.py and README "Grading") ---
# A test cell that writes to stderr scores 0 in nbgrader; drop stderr streams from every
# cell after execution so a correct answer that triggers a warning keeps its points.
# Errors are not streams: a failing test still scores 0.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"[\s\S]*"

# Before execution, restore the instructor's cells, types and metadata, and drop tags such as
# skip-execution or raises-exception that a student could add; turn the student's Markdown into
# safe HTML (nbgrader's formgrade and feedback templates render Markdown unsanitised).
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "grading.preprocessors.NormaliseSubmission",
    "grading.preprocessors.SanitizeMarkdown",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Before a submission is copied for grading, symbolic links and special files are removed from it
# (nbgrader would follow them with your rights), and a single notebook handed in under another
# name is graded as the assignment's notebook (grading/hooks.py).
c.Autograde.pre_convert_hook = prepare_submission

# Feedback and the formgrader render student outputs as sanitised HTML (no scripts: a student's
# output must not run in the instructor's browser).
c.HTMLExporter.sanitize_html = True

# Feedback pages carry a Content-Security-Policy that forbids scripts (grading/feedback.py).
c.GenerateFeedback.post_convert_hook = add_content_security_policy

# Feedback shows each failed test and its message, never hidden tests' source.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "grading.preprocessors.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Execution: student cells run in the student's kernel; test cells run in the grading process and
# only call into the kernel for data (grading/remote.py), so the verdict never depends on what the
# student's process reports. A dead or unresponsive kernel never aborts a submission.
# Otherwise nbgrader's own autograde steps, in nbgrader's order.
c.Autograde.autograde_preprocessors = [
    "grading.preprocessors.TrustedExecute",
    # the outputs' allow-list, before any template renders them (grading/outputs.py)
    "grading.outputs.SanitizeOutputs",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# `course grade` (instructor/classgrade.py) reads its bounds from here too, as c.CourseGrade.<name>:
# worker_memory (4 GiB per grading process), max_submission_bytes (64 MiB) and max_submission_files (200)
# (see `python -c "from instructor.config import CourseGrade; CourseGrade.class_print_help()"`).
