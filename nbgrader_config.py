"""nbgrader configuration of the course (read by every `nbgrader` command run from this folder)."""

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

# Grading: a cell may run for at most this many seconds before it counts as failed.
c.ExecutePreprocessor.timeout = 60
c.Execute.timeout = 60
