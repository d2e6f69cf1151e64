"""A griffe extension: Sphinx cross-reference roles in laborseq's docstrings read as code in the API pages.

The docstrings are numpydoc, written for Sphinx as well, so they cite other objects as
``:func:`~laborseq.models.MNLogit```. mkdocstrings does not read those roles; this
extension rewrites each as a code span of the name (its last component with ``~``) before
the docstring is parsed, and ``:math:`x``` as the plain ``x``.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

_ROLE = re.compile(r":(?:py:)?(?P<role>func|class|meth|mod|data|attr|obj|exc|const|math):`(?P<target>[^`]+)`")


def _replace(match: re.Match[str]) -> str:
    target = match["target"]
    if match["role"] == "math":
        return target
    label = re.sub(r"^(.*?)\s*<.*>$", r"\1", target)  # "text <target>" keeps the text
    if label.startswith("~"):
        label = label[1:].rsplit(".", 1)[-1]
    return f"`{label}`"


class SphinxRoles(Extension):
    """Rewrite Sphinx roles in every docstring of the loaded package."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_replace, obj.docstring.value)
