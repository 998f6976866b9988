"""Full-scale ranges as tables that carry their scale: no ``if`` chains for conversion."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RangeSetting:
    """One full-scale setting: the register field value and what one count is worth."""

    full_scale: float      # g or degrees per second, either sign
    field: int             # value of the range bits, before shifting into the register
    units_per_lsb: float   # g per count, or degrees per second per count


def pick_range(table: dict[float, RangeSetting], wanted: float, what: str, chip: str) -> RangeSetting:
    from firmware_bridge.errors import ConfigurationError

    try:
        return table[wanted]
    except KeyError:
        choices = ", ".join(f"{k:g}" for k in sorted(table))
        raise ConfigurationError(f"{chip} has no {what} range ±{wanted:g}; choose one of {choices}") from None
