"""Seeds: one user-facing integer becomes a ``jax.random`` key; numpy and CP-SAT get it back."""

from __future__ import annotations


def seed_of(key) -> int:
    """The integer seed behind a jax key (``jax.random.key(s)`` gives back ``s``; a split key
    gives a fixed derived value): the seed for numpy generators and CP-SAT."""
    import jax

    return int(jax.random.key_data(key)[-1])
