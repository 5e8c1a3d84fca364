"""``hh``: the Petri-net hyper-heuristic agent picks one of 7 dispatching rules per decision.

An instance is padded into the shipped agent of the smallest size it fits, from the agent set of
``protocol`` (or the agent file given as ``checkpoint``). The default set, ``"generated"``, was
trained on random instances only: its quality on an instance it never saw is what a user gets on
their own instances. The ``"instances"`` set was trained on the Taillard instances of each size
(the HH paper's protocol), so on those instances it is measured on its training data; the
greedy rollout and ``samples`` sampled ones run as one batch and
the best schedule is kept. ``render_every`` writes pictures of the Petri net along the way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from jsched.errors import JSchedError
from jsched.hh.agent import PROTOCOLS
from jsched.hh.train import TrainConfig, train  # noqa: F401  (the registry's train verb)
from jsched.options import option
from jsched.result import Result
from jsched.schedule import Schedule


@dataclass(frozen=True)
class Config:
    samples: int = option(0, "sampled rollouts besides the greedy one (best kept)", min=0)
    protocol: str = option("generated", "shipped agent set: trained on random instances, or on the Taillard "
                           "instances of the size (the paper's protocol)", choices=PROTOCOLS)  # fmt: skip
    checkpoint: str | None = option(None, "HH agent file (default: the shipped agent of the smallest size that fits)")
    commitment: int | None = option(None, "override the agent's commitment (allocations per rule choice)", min=1)
    render_every: int = option(0, "write a Petri-net frame every K agent decisions (0: none)", min=0)
    render_dir: str = option("hh_frames", "folder of the frames (with render_every)")
    render_format: str = option("png", "format of the frames", choices=("png", "svg"))


def solve(instance, config: Config, key) -> Result:
    return _solve_all([instance], config, key, subfolders=False)[0]


def evaluate(instances, config: Config, key) -> list[Result]:
    """Solve every instance with the same key (as ``solve`` would), one batch per agent; frames
    go to a subfolder of ``render_dir`` per instance."""
    return _solve_all(instances, config, key, subfolders=True)


def _solve_all(instances, config: Config, key, subfolders: bool) -> list[Result]:
    from jsched.hh.agent import load_policy, policy_for
    from jsched.instances.model import JSPInstance

    for inst in instances:
        if not isinstance(inst, JSPInstance):
            raise JSchedError(f"method hh solves JSP instances, not {type(inst).__name__}")
    given = load_policy(config.checkpoint) if config.checkpoint else None
    groups: dict[int, tuple] = {}
    for k, inst in enumerate(instances):
        pol = policy_for(inst, config.protocol) if given is None else given
        if not pol.fits(inst):
            raise JSchedError(f"{inst.name}: {inst.shape} does not fit the HH agent trained on {pol.size}")
        groups.setdefault(id(pol), (pol, []))[1].append(k)
    results: list[Result | None] = [None] * len(instances)
    for pol, idx in groups.values():
        solved = pol.solve_many([instances[k] for k in idx], config.samples, key, config.commitment)
        for k, (start, _, rules, mode) in zip(idx, solved):
            inst = instances[k]
            commitment = config.commitment or pol.cfg.commitment
            extra = {"agent": pol.size, "protocol": pol.info.get("protocol"), "commitment": commitment, "mode": mode,
                     "rules": rules}  # fmt: skip
            if config.render_every:
                from jsched.hh.render import render_episode

                folder = os.path.join(config.render_dir, inst.name) if subfolders else config.render_dir
                frames = render_episode(inst, rules, folder, every=config.render_every, fmt=config.render_format,
                                        commitment=commitment)  # fmt: skip
                extra["frames"] = len(frames)
            results[k] = Result(inst, Schedule.from_arrays(inst, start), extra=extra, summary=("agent", "mode"))
    return results
