"""``jsched eval TARGET SET ...``: evaluate a method on a benchmark set, table by size."""

from jsched.commands._targets import register_dispatch

TARGETS: dict[str, str] = {
    "slim": "jsched.slim.eval",
    "hh": "jsched.hh.eval",
}


def register(sub) -> None:
    register_dispatch(sub, "eval", "evaluate a method on a benchmark set: " + ", ".join(TARGETS), TARGETS)
