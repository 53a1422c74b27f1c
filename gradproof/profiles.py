"""gradproof's hypothesis profiles, selected with `pytest --hypothesis-profile=NAME`.

max_examples is the number of inputs gradproof.check draws per region of a derivation.
"""

from __future__ import annotations

from hypothesis import settings

DEFAULT_EXAMPLES = 5  # per region, under any profile that is not gradproof's
PROFILES = {
    "dev": {"max_examples": 5},
    "ci": {"max_examples": 20, "derandomize": True, "print_blob": True},
    "thorough": {"max_examples": 100},
}


def register() -> None:
    for name, values in PROFILES.items():
        settings.register_profile(name, deadline=None, **values)  # type: ignore[arg-type]
