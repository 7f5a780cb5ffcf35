"""The course's grading machinery.

checks     the checking vocabulary that visible and hidden tests share
hidden     the hidden tests' engine (a course's solutions/<module>_checks.py says what to check)
wire       values crossing between the grader and a student's kernel
harness    runs inside the student's kernel: calls a function, reports what it did
remote     the grader's side of a student's kernel
grading    grades one notebook (the one path the command line and nbgrader use)
sandbox    the jail a student's kernel runs in
zygote     warm kernels: the imports paid once per grading process, each kernel forked into its own jail
"""
