"""The public API is deliberate: __all__ is sorted, complete and importable."""

from __future__ import annotations

import mlsteward


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert mlsteward.__all__ == sorted(mlsteward.__all__)
    for name in mlsteward.__all__:
        assert getattr(mlsteward, name) is not None


def test_public_names_are_exactly_all() -> None:
    # subpackages become attributes once imported; they are modules, not API names
    import types

    public = {
        n
        for n, v in vars(mlsteward).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType)
    } - {"annotations"}
    assert public <= set(mlsteward.__all__), public - set(mlsteward.__all__)


def test_steward_error_is_the_root_of_every_error() -> None:
    from mlsteward import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), mlsteward.StewardError)
