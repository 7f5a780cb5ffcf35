# nbgrader reads nbgrader_config.py from the working directory; the course's
# settings live in course_config.py.
c = get_config()  # noqa: F821
load_subconfig("course_config.py")  # noqa: F821
