"""``jsched train TARGET ...``: train a model (progress bar, checkpoints, resume)."""

from jsched.commands._targets import register_dispatch

TARGETS: dict[str, str] = {
    "slim": "jsched.slim.train",
    "hh": "jsched.hh.train",
    "dac": "jsched.dac.train_cmd",
    "lrho": "jsched.rho.train",
    "fjsp-policy": "jsched.dfmeta.train_policy",
    "dfmeta": "jsched.dfmeta.train",
}


def register(sub) -> None:
    register_dispatch(sub, "train", "train a model: " + ", ".join(TARGETS), TARGETS)
