"""Profiles on Dask: every partition is profiled by the single-machine code, then merged.

Partitions travel to the workers as pandas frames and come back as profile bytes (the
sketches do not pickle), so the client only merges small profiles. Counts and moments
equal the single-machine profile's; sketches agree within their error bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlsteward.data.columns import ColumnSpec, Settings
from mlsteward.data.profile import Profile, merge_all, profile_batches, specs_from
from mlsteward.data.readers import iter_batches
from mlsteward.errors import UsageError

__all__ = ["profile_dask"]


def _profile_part(part: Any, settings: Settings, specs: Mapping[str, ColumnSpec]) -> bytes:
    return profile_batches(iter_batches(part), settings, specs).to_bytes()


def profile_dask(
    ddf: Any,
    *,
    reference: Profile | None = None,
    bins: int = 50,
    k: int = 200,
    sample_values: int = 5,
) -> Profile:
    """Profile a Dask DataFrame partition by partition on its scheduler and merge.

    Raises:
        UsageError: ``ddf`` is not a Dask DataFrame (``profile-input``).
    """
    from dask.base import compute
    from dask.delayed import delayed

    if not hasattr(ddf, "to_delayed"):
        raise UsageError(
            f"expected a Dask DataFrame, got {type(ddf).__name__}",
            code="profile-input",
            hint="pass dask.dataframe objects here; other inputs go to profile()",
        )
    settings = Settings(bins=bins, k=k, sample_values=sample_values)
    specs = specs_from(reference, bins)
    task = delayed(_profile_part, pure=True)
    parts = [task(part, settings, specs) for part in ddf.to_delayed()]
    blobs = compute(*parts)  # type: ignore[no-untyped-call]
    profiles = [Profile.from_bytes(b) for b in blobs]
    if not profiles:
        return Profile(0, {}, settings)
    return merge_all(profiles)
