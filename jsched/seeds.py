"""Seeds: one user-facing integer becomes a ``jax.random`` key; numpy and CP-SAT get it back;
seed lists are written ``0-49`` or ``1,2,5``."""

from __future__ import annotations

from jsched.errors import JSchedError


def seed_of(key) -> int:
    """The integer seed behind a jax key (``jax.random.key(s)`` gives back ``s``; a split key
    gives a fixed derived value): the seed for numpy generators and CP-SAT."""
    import jax

    return int(jax.random.key_data(key)[-1])


def parse_seeds(text: str) -> list[int]:
    """``"0-2,5"`` -> ``[0, 1, 2, 5]``."""
    out: list[int] = []
    try:
        for part in text.split(","):
            if "-" in part:
                a, b = (int(x) for x in part.split("-"))
                if b < a:
                    raise ValueError
                out += list(range(a, b + 1))
            elif part.strip():
                out.append(int(part))
    except ValueError:
        raise JSchedError(f"seeds: cannot read {text!r} (use e.g. 0-49 or 1,2,5: ranges ascending)") from None
    if not out or min(out) < 0 or len(set(out)) < len(out):
        raise JSchedError(f"seeds: {text!r} must name distinct seeds >= 0")
    return out
