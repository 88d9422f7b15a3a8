"""Work around a known openapi-python-client bug in the generated SDK.

openapi-python-client 0.29.x (upstream issue #1451, fix pending in PR #1478):
for an operation whose *required* request body has several media types
(here POST /api/v1/auth/token and /api/v1/auth/revoke: JSON or
application/x-www-form-urlencoded, both legal per RFC 6749 and the spec),
the generator annotates the body as `... | Unset = UNSET` but never imports
`Unset`, so the module fails with NameError at import time.

This adds the missing import, and only that. It prints what it patched so the
run log shows the workaround is still in use; it does nothing once the
generator is fixed.
"""

import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
patched = []
for path in sorted(root.rglob("api/**/*.py")):
    src = path.read_text()
    uses = re.search(r"\|\s*Unset\b", src)
    imports = re.search(r"^from \.\.\.types import .*\bUnset\b", src, re.M)
    if uses and not imports:
        new, n = re.subn(r"^from \.\.\.types import (.*)$", r"from ...types import \1, Unset", src, count=1, flags=re.M)
        if n != 1:
            sys.exit(f"patch_python_client: cannot patch {path}")
        path.write_text(new)
        patched.append(str(path.relative_to(root)))
for p in patched:
    print(f"  patched missing `Unset` import (openapi-python-client #1451): {p}")
