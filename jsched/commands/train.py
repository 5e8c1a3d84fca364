"""``jsched train TARGET ...``: train a model (progress bar, checkpoints, resume)."""

from jsched.commands._targets import register_dispatch

TARGETS: dict[str, str] = {
    "dac": "jsched.dac.train_cmd",
    "hh": "jsched.hh.train",
}
TARGETS: dict[str, str] = {}
TARGETS["hh"] = "jsched.hh.train"
TARGETS["fjsp-policy"] = "jsched.dfmeta.train_policy"
TARGETS["dfmeta"] = "jsched.dfmeta.train"


def register(sub) -> None:
    register_dispatch(sub, "train", "train a model: " + ", ".join(TARGETS), TARGETS)
