import sys

# jsonschema (imported by nbformat, so by nbgrader and every command) imports rfc3987_syntax when it is
# installed, which builds a parser for the "iri" string format at import: about 3 s of every command's start
# on a 2-core machine, for a format no notebook or gradebook schema uses. Blocked, jsonschema leaves that one
# format unchecked. (Here, not in the package: a student's kernel imports autograder too.)
sys.modules.setdefault("rfc3987_syntax", None)

from .cli import main  # noqa: E402

sys.exit(main())
