"""``jsched solve INSTANCE --method hh``: the Petri-net hyper-heuristic agent.

Loads the shipped agent (``jsched/assets/hh/hh_JxM.msgpack``) of the smallest size the
instance fits into (padding jobs and machines), or ``--hh-policy FILE``; runs the greedy
policy, plus ``--hh-samples N`` sampled rollouts (best kept); optionally writes Petri-net
frames every K allocations (``--render-every K --render-dir DIR``).
"""

from __future__ import annotations

from jsched.errors import JSchedError
from jsched.methods import SolveOutput
from jsched.schedule import Schedule


def add_arguments(parser) -> None:
    parser.add_argument("--hh-policy", help="HH policy file (default: the shipped agent for the size)")
    parser.add_argument("--hh-samples", type=int, default=0, help="sampled rollouts besides the greedy one")
    parser.add_argument("--hh-commitment", type=int, help="override the agent's commitment x")
    parser.add_argument("--render-every", type=int, default=0, help="write a Petri-net frame every K allocations")
    parser.add_argument("--render-dir", default="hh_frames", help="folder of the frames (with --render-every)")
    parser.add_argument("--render-format", choices=("png", "svg"), default="png")


def solve(instance, args) -> SolveOutput:
    from jsched.hh.agent import load_policy, shipped_sizes
    from jsched.hh.eval import policy_for
    from jsched.instances.model import JSPInstance

    if not isinstance(instance, JSPInstance):
        raise JSchedError(f"method hh solves JSP instances, not {type(instance).__name__}")
    samples = getattr(args, "hh_samples", 0) or 0
    if samples < 0:
        raise JSchedError("--hh-samples must be >= 0")
    if getattr(args, "hh_policy", None):
        pol = load_policy(args.hh_policy)
        if not pol.fits(instance):
            raise JSchedError(f"{instance.name}: {instance.shape} does not fit the policy trained on "
                              f"{pol.cfg.n_jobs}x{pol.cfg.n_machines}")
    else:
        pol = policy_for(instance)
        if pol is None:
            sizes = ", ".join(f"{j}x{m}" for j, m in shipped_sizes()) or "none"
            raise JSchedError(f"{instance.name}: no shipped HH agent fits {instance.shape} (shipped: {sizes}); "
                              f"train one with `jsched train hh --size {instance.shape}` and pass --hh-policy")
    start, ms, rules, mode = pol.solve(instance, samples=samples, seed=getattr(args, "seed", 0),
                                       commitment=getattr(args, "hh_commitment", None))
    extra = {"agent": f"{pol.cfg.n_jobs}x{pol.cfg.n_machines}", "commitment": getattr(args, "hh_commitment", None)
             or pol.cfg.commitment, "mode": mode, "rules": rules}
    every = getattr(args, "render_every", 0) or 0
    if every:
        from jsched.hh.render import render_episode

        frames = render_episode(instance, rules, args.render_dir, every=every, fmt=args.render_format,
                                commitment=extra["commitment"])
        extra["frames"] = len(frames)
    return SolveOutput(Schedule.from_arrays(instance, start), extra, summary=("agent", "mode"))
