"""mkdocs hook: pages that other parts of the project add to docs/ join the nav when they
exist, so the strict build neither fails before they land nor hides them after.

``OPTIONAL`` maps a top-level nav section to the pages appended to it when present.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

OPTIONAL = {"Real models": ["reliability.md", "robustness.md"]}


def on_config(config: Any, **kwargs: Any) -> Any:
    docs = Path(config["docs_dir"])
    for section in config["nav"] or []:
        for title, pages in section.items() if isinstance(section, dict) else ():
            listed = {e if isinstance(e, str) else next(iter(e.values())) for e in pages}
            for page in OPTIONAL.get(title, []):
                if (docs / page).is_file() and page not in listed:
                    pages.append(page)
    return config
