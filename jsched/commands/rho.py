"""``jsched rho INSTANCE [options]`` = ``jsched solve INSTANCE --method rho [options]``, and
``jsched rho collect``: oracle labels on generated instances, the L-RHO training data (finished
instances are kept in ``OUT.parts/`` until the dataset is written; ``--resume`` continues an
interrupted collect).

INSTANCE may also be a generated instance ``SETTING:SEED`` (e.g. ``mk-small:3``, objective: the
setting's unless ``--objective`` is given). The flags come from ``jsched.rho.method.Config`` and
``jsched.rho.collect.CollectConfig``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import time

from jsched.commands._method import add_seed
from jsched.errors import JSchedError
from jsched.options import add_flags, flag, options_from_args
from jsched.rho.collect import CollectConfig
from jsched.rho.method import Config

SOLVE_ONLY = ("variant", "checkpoint", "gantt")  # flags collect rejects (it collects under breakdowns too)


def register(sub) -> None:
    p = sub.add_parser(
        "rho",
        help="rolling-horizon CP-SAT (= jsched solve --method rho); `jsched rho collect` gathers L-RHO oracle labels",
    )
    p.add_argument("instance", help="benchmark name, instance file, SETTING:SEED, or the word 'collect'")
    add_flags(p, Config, "RHO options")
    add_flags(p, CollectConfig, "collect options (jsched rho collect)")
    add_seed(p)
    p.add_argument("--out", help="schedule JSON (a solve) or dataset .npz (collect)")
    p.add_argument("--gantt", help="Gantt chart (.png/.svg)")
    p.set_defaults(func=run)


def load_rho_instance(spec: str):
    """(instance, its setting's objective or None) for a benchmark name, file or SETTING:SEED."""
    from jsched.rho.generators import SETTINGS, setting_instance

    name, _, seed = spec.partition(":")
    if seed and name in SETTINGS:
        try:
            return setting_instance(name, int(seed)), SETTINGS[name][2]
        except ValueError:
            raise JSchedError(f"bad generated instance {spec!r}; use SETTING:SEED, e.g. mk-small:3") from None
    from jsched.api import load

    return load(spec), None


def _reject(args: argparse.Namespace, names, what: str) -> None:
    given = [flag(n) for n in names if getattr(args, n, None) is not None]
    if given:
        raise JSchedError(f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to {what}")


def run(args: argparse.Namespace) -> int:
    if args.instance == "collect":
        return _collect(args)
    import jsched

    _reject(args, [f.name for f in dataclasses.fields(CollectConfig)], "a solve (only to jsched rho collect)")
    from jsched.commands.solve import check_outputs

    check_outputs(args.instance, args.out, args.gantt)
    instance, objective = load_rho_instance(args.instance)
    options = options_from_args(Config, args)
    if objective is not None:
        options.setdefault("objective", objective)
    seed = {} if args.seed is None else {"seed": args.seed}
    method = "lrho" if options.get("variant") == "lrho" else "rho"  # the registry's name for what runs
    if method == "lrho":
        del options["variant"]
    result = jsched.solve(instance, method=method, **seed, **options)
    print(result.line())
    if args.out:
        result.save(args.out)
    if args.gantt:
        from jsched.gantt import plot_gantt

        plot_gantt(result.instance, result.schedule, args.gantt, title=result.title())
    return 0


def _command(args: argparse.Namespace) -> str:
    """The ``jsched rho collect`` command line of ``args`` (the flags given, in a fixed order)."""
    words = ["jsched", "rho", "collect"]
    given = {**options_from_args(CollectConfig, args), **options_from_args(Config, args)}
    if args.seed is not None:
        given["seed"] = args.seed
    for name, value in given.items():
        words += [flag(name)] if value is True else [flag("no_" + name)] if value is False else [flag(name), str(value)]
    return shlex.join(words + ["--out", args.out])


def _collect(args: argparse.Namespace) -> int:
    from jsched.atomic import check_writable
    from jsched.options import make_config
    from jsched.rho.collect import collect, parts_dir, remove_parts, save_dataset
    from jsched.rho.generators import SETTINGS
    from jsched.rho.loop import RHOConfig
    from jsched.seeds import parse_seeds

    _reject(args, SOLVE_ONLY, "jsched rho collect (it runs the oracle variant)")
    if not args.out:
        raise JSchedError("rho collect needs --out FILE.npz")
    options = make_config(CollectConfig, options_from_args(CollectConfig, args), "rho collect")
    loop_options = options_from_args(Config, args)
    loop_options.setdefault("objective", SETTINGS[options.setting][2])
    config = make_config(Config, loop_options, "rho collect")
    seed = {} if args.seed is None else {"seed": args.seed}
    rho = RHOConfig(**dataclasses.asdict(config), **seed)
    check_writable(args.out)  # a bad --out fails now, not after the collect
    # Each finished instance's labels are kept beside --out until the dataset is written (not
    # beside a pipe or device such as /dev/stdout: no folder can be made there).
    where = os.path.abspath(args.out)
    device = (os.path.exists(args.out) and not os.path.isfile(args.out)) or (
        where.startswith(("/dev/", "/proc/")) and not where.startswith("/dev/shm/"))  # fmt: skip
    if device and options.resume:
        raise JSchedError(f"--resume needs a regular --out file (its labels are kept beside it); {args.out} is not one")
    parts = None if device else parts_dir(args.out)
    t0 = time.perf_counter()
    arrays, meta = collect(options, rho, parts=parts)
    meta["commands"] = [_command(args)]  # recorded in the models trained on it
    save_dataset(args.out, arrays, meta)
    if parts is not None:
        remove_parts(parts, parse_seeds(options.seeds))
    n_ov = int(arrays["overlap"].sum())
    keep = float(arrays["labels"][arrays["overlap"]].mean()) if n_ov else float("nan")
    print(
        f"collect: backend={options.backend} setting={options.setting} instances={len(meta['seeds'])} "
        f"samples={len(arrays['labels'])} overlap_ops={n_ov} keep_rate={keep:.3f} "
        f"time={time.perf_counter() - t0:.1f}s -> {args.out}"
    )
    return 0
