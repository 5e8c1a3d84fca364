"""``jsched rho INSTANCE --variant V [--H 80 --S 30 --T 60] --out FILE.json`` and ``jsched rho collect``.

INSTANCE is a benchmark name or file (``jsched.instances.load``) or a generated instance
``SETTING:SEED`` of ``jsched.rho.generators.SETTINGS`` (e.g. ``mk-small:3``). The JSON is the
``jsched solve`` contract plus the RHO fields (variant, objective, solve time, windows, ...).

``jsched rho collect --setting mk-small --seeds 100-159 --processes 2 --out data.npz`` runs the
oracle variant on generated instances in a process pool (``--backend ray [--ray-address A]``:
as Ray tasks, on a cluster) and writes the L-RHO dataset.
"""

from __future__ import annotations

import argparse
import os
import time

from jsched.errors import JSchedError

VARIANTS = ("default", "warm", "first", "random", "oracle", "lrho")  # = jsched.rho.loop.VARIANTS
ASSETS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "assets")
DEFAULT_MODEL = os.path.join(ASSETS, "lrho-mk-small.msgpack")  # makespan objective
DELAY_MODEL = os.path.join(ASSETS, "lrho-dl-small.msgpack")  # start / start+end delay objectives


def register(sub) -> None:
    p = sub.add_parser(
        "rho",
        help="rolling-horizon CP-SAT (L-RHO and its variants); `jsched rho collect` gathers oracle labels",
    )
    p.add_argument("instance", help="benchmark name, instance file, SETTING:SEED, or the word 'collect'")
    p.add_argument("--variant", default="default", choices=VARIANTS)
    p.add_argument("--H", type=int, default=80, help="window size (operations)")
    p.add_argument("--S", type=int, default=30, help="operations executed per window")
    p.add_argument("--T", type=float, default=60.0, help="CP-SAT time limit per window (s)")
    p.add_argument("--stop-after", type=float, default=3.0, help="early stop without improvement (s; <= 0: off)")
    p.add_argument("--objective", choices=("makespan", "start_delay", "start_end_delay"), default=None,
                   help="default: the setting's objective, else makespan")  # fmt: skip
    p.add_argument("--p", type=float, default=0.5, help="fraction fixed by first/random")
    p.add_argument("--oracle-k", type=int, default=3, help="oracle re-solves per window")
    p.add_argument("--oracle-pick", choices=("overlap", "objective"), default="overlap")
    p.add_argument("--model", default=None, help="L-RHO checkpoint (default: the shipped one for the objective)")
    p.add_argument("--no-pack", action="store_true", help="makespan windows minimise Cmax only (the code's model)")
    p.add_argument("--noise-prob", type=float, default=0.0, help="observation noise probability")
    p.add_argument("--breakdowns", choices=("low", "mid", "high"), default=None,
                   help="machine breakdowns at this level (seeded by --seed; repair time unknown to the planner)")  # fmt: skip
    p.add_argument("--breakdown-machines", choices=("count", "iid"), default="count",
                   help="down machines per event: floor(q*M) (the code) or each with probability q (the paper)")  # fmt: skip
    p.add_argument("--workers", type=int, default=2, help="CP-SAT threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="schedule JSON (run) or dataset .npz (collect)")
    p.add_argument("--gantt", help="Gantt chart (.png/.svg)")
    p.add_argument("--setting", default="mk-small", help="collect: generator setting")
    p.add_argument("--seeds", default="0-9", help="collect: instance seeds, e.g. 0-49 or 1,2,5")
    p.add_argument("--processes", type=int, default=1, help="collect: parallel instances")
    p.add_argument("--backend", choices=("process", "ray"), default="process",
                   help="collect: local process pool, or Ray (optional extra jsched[ray]; for clusters)")  # fmt: skip
    p.add_argument("--ray-address", default=None, help="collect --backend ray: cluster address (default: RAY_ADDRESS or local)")
    p.set_defaults(func=run)


def parse_seeds(text: str) -> list[int]:
    out: list[int] = []
    try:
        for part in text.split(","):
            if "-" in part:
                a, b = part.split("-")
                out += list(range(int(a), int(b) + 1))
            elif part.strip():
                out.append(int(part))
    except ValueError:
        raise JSchedError(f"--seeds: cannot read {text!r} (use e.g. 0-49 or 1,2,5)") from None
    return out


def _config(args, objective: str):
    from jsched.rho.loop import RHOConfig

    return RHOConfig(
        H=args.H,
        S=args.S,
        T=args.T,
        stop_after=args.stop_after if args.stop_after and args.stop_after > 0 else None,
        objective=objective,
        variant=args.variant,
        p=args.p,
        oracle_k=args.oracle_k,
        oracle_pick=args.oracle_pick,
        workers=args.workers,
        seed=args.seed,
        noise_prob=args.noise_prob,
        pack=not args.no_pack,
    )


def load_rho_instance(spec: str):
    """(instance, default objective) for a benchmark name, file or SETTING:SEED."""
    from jsched.rho.generators import SETTINGS, setting_instance

    if ":" in spec and spec.split(":")[0] in SETTINGS:
        name, seed = spec.split(":", 1)
        try:
            return setting_instance(name, int(seed)), SETTINGS[name][2]
        except ValueError:
            raise JSchedError(f"bad generated instance {spec!r}; use SETTING:SEED, e.g. mk-small:3") from None
    try:
        from jsched.instances import load
    except ImportError:
        raise JSchedError("instance files need jsched.instances.load (core library)") from None
    return load(spec), "makespan"


def run(args: argparse.Namespace) -> int:
    if args.instance == "collect":
        return _collect(args)
    from jsched.rho.loop import run_rho
    from jsched.schedule import schedule_payload, write_json_atomic

    instance, default_obj = load_rho_instance(args.instance)
    cfg = _config(args, args.objective or default_obj)
    predictor = None
    if cfg.variant == "lrho":
        from jsched.rho.net import Predictor

        model = args.model or (DEFAULT_MODEL if cfg.objective == "makespan" else DELAY_MODEL)
        predictor = Predictor(model, cfg.H)
    bd = ()
    if args.breakdowns:
        import numpy as np

        from jsched.instances.model import as_fjsp
        from jsched.rho.generators import breakdowns

        f = as_fjsp(instance)
        horizon = int(f.durations.max(axis=1).sum())
        bd = breakdowns(np.random.default_rng(args.seed), f.n_machines, horizon, args.breakdowns, args.breakdown_machines)
    from tqdm import tqdm

    t0 = time.perf_counter()
    with tqdm(total=instance.n_ops, desc=f"rho-{cfg.variant}", unit="op", leave=False) as bar:
        res = run_rho(instance, cfg, predictor=predictor, breakdowns=bd, progress=lambda k, n: bar.update(k - bar.n))
    elapsed = time.perf_counter() - t0
    try:
        from jsched.instances import best_known

        bk = best_known(instance) if cfg.objective == "makespan" else None
    except ImportError:
        bk = None
    extra = {
        "variant": cfg.variant,
        "objective_name": cfg.objective,
        "objective": res.objective,
        "solve_time": round(res.solve_time, 4),
        "windows": res.n_windows,
        "overlap_ops": res.n_overlap,
        "fixed_ops": res.n_fixed,
        "breakdown_events": len(res.events),
        "interrupted_ops": res.n_interrupted,
        # Down windows: an outside checker needs them to verify no op runs on a down machine.
        "breakdowns": [{"machine": m, "start": lo, "end": hi} for m, lo, hi in bd if lo < res.schedule.makespan],
        "H": cfg.H,
        "S": cfg.S,
        "T": cfg.T,
    }
    payload = schedule_payload(instance, res.schedule, f"rho-{cfg.variant}", bk, elapsed, **extra)
    gap = payload["gap_percent"]
    print(
        f"instance={instance.name} method=rho-{cfg.variant} "
        + (f"{cfg.objective}={res.objective} " if cfg.objective != "makespan" else "")
        + f"makespan={payload['makespan']} best_known={bk if bk is not None else '-'} "
        f"gap={'-' if gap is None else f'{gap:.2f}%'} solve_time={res.solve_time:.2f}s time={elapsed:.2f}s "
        f"windows={res.n_windows} fixed={res.n_fixed}/{res.n_overlap}"
    )
    if args.out:
        write_json_atomic(args.out, payload)
    if args.gantt:
        from jsched.gantt import plot_gantt

        plot_gantt(instance, res.schedule, args.gantt, title=f"{instance.name} - rho-{cfg.variant}")
    return 0


def _collect(args) -> int:
    from jsched.rho.collect import collect, save_dataset
    from jsched.rho.generators import SETTINGS

    if args.setting not in SETTINGS:
        raise JSchedError(f"unknown setting {args.setting!r}; choose one of {', '.join(sorted(SETTINGS))}")
    if not args.out:
        raise JSchedError("rho collect needs --out FILE.npz")
    seeds = parse_seeds(args.seeds)
    cfg = _config(args, args.objective or SETTINGS[args.setting][2])
    t0 = time.perf_counter()
    arrays, meta = collect(
        args.setting, seeds, cfg, processes=args.processes, backend=args.backend, ray_address=args.ray_address
    )
    save_dataset(args.out, arrays, meta)
    n_ov = int(arrays["overlap"].sum())
    keep = float(arrays["labels"][arrays["overlap"]].mean()) if n_ov else float("nan")
    print(
        f"collect: backend={args.backend} setting={args.setting} instances={len(seeds)} samples={len(arrays['labels'])} "
        f"overlap_ops={n_ov} keep_rate={keep:.3f} time={time.perf_counter() - t0:.1f}s -> {args.out}"
    )
    return 0
