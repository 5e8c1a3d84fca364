"""Throughput of the JSP dispatch env, every contender side by side in one run (``jsched bench``).

Rows (15x15 random Taillard-style instances, a uniform random policy over the eligible jobs):
(a) the hand-specialised jitted env loop and the generic ``jsched.rollout`` in sample mode, as
users call it, and in greedy mode (the same loop without the categorical draw); (b) a plain
one-at-a-time Python env; (c) a batched numpy env; (d) Jumanji's time-stepped ``JobShop`` when
installed; (e) a small MLP policy (4 features per job -> h -> h -> 1) fused in the scan vs the
same jitted MLP called from a Python loop. Each figure is the best of
``repeats`` timed runs after a compile run; ratios are taken within one run. ``XLA_FLAGS``
defaults to ``--xla_cpu_enable_concurrency_optimized_scheduler=false`` for every row.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_enable_concurrency_optimized_scheduler=false")

import functools  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from jsched.commands.bench import QUICK, BenchConfig  # noqa: E402
from jsched.kernels import jsp  # noqa: E402
from jsched.kernels.env import JSP_ENV  # noqa: E402
from jsched.rollout import rollout, sample_from_uniform  # noqa: E402

J = O = M = 15
T = J * O
ROLLOUT = "jsched.rollout (sample mode)"


def make_instances(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mach = np.argsort(rng.random((n, J, M)), axis=2)[:, :, :O].astype(np.int32)
    dur = rng.integers(1, 100, (n, J, O)).astype(np.int32)
    return mach, dur


def to_params(mach, dur) -> jsp.JSPParams:
    n = mach.shape[0]
    return jsp.JSPParams(
        machines=jnp.asarray(mach),
        durations=jnp.asarray(dur),
        job_len=jnp.full((n, J), O, jnp.int32),
        release=jnp.zeros((n, J), jnp.int32),
        machine_mask=jnp.ones((n, M), bool),
    )


def best_time(fn, repeats: int) -> float:
    fn()  # warm-up / compile
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


# ---------------------------------------------------------------------------------------------
# (a) jitted env


def _episode(params, key, unroll):
    """Random policy with a per-env list of unfinished jobs (the same algorithm as (b), (c))."""

    def body(c, u):
        s, live, n = c
        i = jnp.floor(u * n).astype(jnp.int32)
        j = live[i]
        s = jsp.step(params, s, j)[0]
        fin = s.next_op[j] >= params.job_len[j]
        n = n - fin.astype(jnp.int32)
        live = live.at[i].set(jnp.where(fin, live[n], j))  # swap-remove a finished job
        return (s, live, n), None

    live = jnp.arange(params.job_len.shape[0], dtype=jnp.int32)
    n = (params.job_len > 0).sum().astype(jnp.int32)
    (s, _, _), _ = jax.lax.scan(body, (jsp.reset(params), live, n), jax.random.uniform(key, (T,)), unroll=unroll)
    return jsp.makespan(s)


@functools.partial(jax.jit, static_argnames="unroll")
def jitted_random(p, key, unroll=1):
    keys = jax.random.split(key, p.machines.shape[0])
    return jax.vmap(_episode, in_axes=(0, 0, None))(p, keys, unroll)


def uniform_logits(_, obs):
    return jnp.zeros(obs.state.next_op.shape, jnp.float32)


# ---------------------------------------------------------------------------------------------
# (b) plain Python, one env at a time


def python_episode(mach: list, dur: list, rnd) -> int:
    nxt = [0] * J
    jr = [0] * J
    mr = [0] * M
    live = list(range(J))
    for _ in range(T):
        i = int(rnd() * len(live))
        j = live[i]
        o = nxt[j]
        m = mach[j][o]
        s = jr[j] if jr[j] > mr[m] else mr[m]
        e = s + dur[j][o]
        jr[j] = e
        mr[m] = e
        o += 1
        nxt[j] = o
        if o == O:
            live[i] = live[-1]
            live.pop()
    return max(jr)


# ---------------------------------------------------------------------------------------------
# (c) batched numpy


def numpy_batch(mach: np.ndarray, dur: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """B envs in lock step; per step only O(B) flat gathers/scatters (no (B, J) work).

    Each env keeps its unfinished jobs in a list (``live``, swap-remove on completion), so a
    uniform eligible job is ``live[floor(u * n_live)]``, as in the Python env.
    """
    b = mach.shape[0]
    rows = np.arange(b)
    jbase, mbase, obase = rows * J, rows * M, rows * (J * O)
    mflat = mach.reshape(-1)
    dflat = dur.reshape(-1)
    nxt = np.zeros(b * J, np.int64)
    jr = np.zeros(b * J, np.int64)
    mr = np.zeros(b * M, np.int64)
    live = np.tile(np.arange(J), b)
    n_live = np.full(b, J)
    u = rng.random((T, b))
    for t in range(T):
        i = (u[t] * n_live).astype(np.int64)
        j = live[jbase + i]
        fj = jbase + j
        o = nxt[fj]
        f = obase + j * O + o
        fm = mbase + mflat[f]
        e = np.maximum(jr[fj], mr[fm]) + dflat[f]
        jr[fj] = e
        mr[fm] = e
        o += 1
        nxt[fj] = o
        fin = np.flatnonzero(o == O)
        if fin.size:
            n_live[fin] -= 1
            live[jbase[fin] + i[fin]] = live[jbase[fin] + n_live[fin]]
    return jr.reshape(b, J).max(axis=1)


# ---------------------------------------------------------------------------------------------
# (d) Jumanji


def jumanji_runner():
    """A jitted function running Jumanji's JobShop to completion on a batch, or None."""
    try:
        from jumanji.environments.packing.job_shop.env import JobShop
        from jumanji.environments.packing.job_shop.generator import RandomGenerator
        from jumanji.environments.packing.job_shop.types import State
    except Exception as e:  # pragma: no cover - optional dependency
        print(f"(d) Jumanji not importable: {e!r}")
        return None
    env = JobShop(RandomGenerator(num_jobs=J, num_machines=M, max_num_ops=O, max_op_duration=99))

    def reset(mach, dur):
        st = State(
            ops_machine_ids=mach,
            ops_durations=dur,
            ops_mask=jnp.ones((J, O), bool),
            machines_job_ids=jnp.full((M,), J, jnp.int32),
            machines_remaining_times=jnp.zeros((M,), jnp.int32),
            action_mask=None,
            step_count=jnp.zeros((), jnp.int32),
            scheduled_times=jnp.full((J, O), -1, jnp.int32),
            key=jax.random.PRNGKey(0),
        )
        st.action_mask = env._create_action_mask(
            st.machines_job_ids, st.machines_remaining_times, st.ops_machine_ids, st.ops_mask
        )
        return st

    def policy(key, mask):
        jobs = mask[:, :J]
        logits = jnp.where(jobs, 0.0, -jnp.inf)
        a = jax.random.categorical(key, logits, axis=-1)
        return jnp.where(jobs.any(axis=1), a, J)  # no-op only when no job is eligible

    def run(mach, dur, key):
        states = jax.vmap(reset)(mach, dur)
        b = mach.shape[0]

        def cond(c):
            return ~c[1].all()

        def body(c):
            st, done, k, n = c
            k, sub = jax.random.split(k)
            act = jax.vmap(policy)(jax.random.split(sub, b), st.action_mask)
            act = jnp.where(done[:, None], J, act)
            st, ts = jax.vmap(env.step)(st, act)
            return st, done | ts.last(), k, n + 1

        st, done, _, n = jax.lax.while_loop(cond, body, (states, jnp.zeros((b,), bool), key, jnp.int32(0)))
        # Complete schedules only: every op scheduled.
        complete = (st.scheduled_times >= 0).all(axis=(1, 2))
        return n, complete.sum()

    return jax.jit(run)


# ---------------------------------------------------------------------------------------------
# (e) MLP policy


@functools.lru_cache(maxsize=None)
def mlp_parts(hidden: int):
    """(model, fused policy, jitted per-step function) for a 4 -> hidden -> hidden -> 1 MLP."""
    import flax.linen as nn

    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.tanh(nn.Dense(hidden)(x))
            x = nn.tanh(nn.Dense(hidden)(x))
            return nn.Dense(1)(x)[..., 0]

    model = MLP()

    def policy(w, obs):
        return model.apply(w, mlp_features(obs.params, obs.state))

    @jax.jit
    def step(w, params, state, u):
        """One decision of the same policy and one env step, for a batch (called per step)."""

        def one(p, s, ui):
            logits = jnp.where(jsp.action_mask(p, s), model.apply(w, mlp_features(p, s)), -jnp.inf)
            return jsp.step(p, s, sample_from_uniform(logits, ui)[0])[0]

        return jax.vmap(one)(params, state, u)

    return model, policy, step


def mlp_features(params: jsp.JSPParams, state: jsp.JSPState) -> jax.Array:
    """(J, 4) float32: duration, work left, ops left, earliest start minus t* (scaled)."""
    f = jsp.job_features(params, state)
    mask = jsp.action_mask(params, state)
    t_star = jnp.where(mask, f.est, jnp.iinfo(jnp.int32).max).min()
    x = jnp.stack([f.duration, f.work_left, f.ops_left, f.est - t_star], axis=1).astype(jnp.float32)
    return x / jnp.array([100.0, 1000.0, 15.0, 100.0])


batch_reset = jax.jit(jax.vmap(jsp.reset))


def python_loop_mlp(step, w, params, us: np.ndarray):
    """The Python loop: one jitted call per step; uniforms precomputed on the host."""
    state = batch_reset(params)
    for t in range(T):
        state = step(w, params, state, us[t])
    return jax.block_until_ready(state.job_ready.max(axis=1))


# ---------------------------------------------------------------------------------------------


def run(config: BenchConfig, command: str = "jsched bench") -> dict:
    """Measure every row, print the table and the ratios; returns the JSON payload."""
    args = replace(config, **QUICK) if config.quick else config
    batches = [int(b) for b in args.batches.split(",")]
    rows = []

    def add(name, batch, seconds, episodes):
        ops = episodes * T / seconds
        rows.append({"row": name, "batch": batch, "seconds": seconds, "ops_per_s": ops, "schedules_per_s": ops / T})
        print(f"  {name:<34} batch {batch:>5}: {ops / 1e6:8.3f} M ops/s  {ops / T:10.1f} schedules/s", flush=True)

    big = max(batches + [args.jumanji_batch, args.python_episodes] + [int(x) for x in args.mlp_batches.split(",")])
    mach, dur = make_instances(big)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {os.cpu_count()} cpus, XLA_FLAGS={os.environ.get('XLA_FLAGS')}")

    print(f"(a) jitted env, random policy (unroll {args.unroll})")
    for b in batches:
        p = to_params(mach[:b], dur[:b])
        key = jax.random.key(0)
        add("jit env", b, best_time(lambda: jitted_random(p, key, args.unroll).block_until_ready(), args.repeats), b)
    for b in batches:
        p = to_params(mach[:b], dur[:b])
        key = jax.random.key(0)
        for mode in ("sample", "greedy"):  # greedy: the same loop without the categorical draw
            t = best_time(lambda: rollout(uniform_logits, None, JSP_ENV, p, key, mode).makespan.block_until_ready(), args.repeats)
            add(f"jsched.rollout ({mode} mode)", b, t, b)

    print("(b) plain Python, one env at a time")
    n = args.python_episodes
    ml = [mach[i].tolist() for i in range(n)]
    dl = [dur[i].tolist() for i in range(n)]
    rnd = random.Random(0).random
    add("python one-at-a-time", 1, best_time(lambda: [python_episode(ml[i], dl[i], rnd) for i in range(n)], args.repeats) / n, 1)

    print("(c) batched numpy")
    rng = np.random.default_rng(0)
    for b in batches:
        add("numpy batched", b, best_time(lambda: numpy_batch(mach[:b], dur[:b], rng), args.repeats), b)

    print("(d) Jumanji JobShop")
    run = jumanji_runner()
    jb = args.jumanji_batch
    if run is not None:
        jm, jd = jnp.asarray(mach[:jb]), jnp.asarray(dur[:jb])
        steps, complete = run(jm, jd, jax.random.key(0))
        print(f"  ({int(steps)} env steps until all {jb} schedules complete; {int(complete)} complete)")
        t = best_time(lambda: jax.block_until_ready(run(jm, jd, jax.random.key(0))), max(1, args.repeats // 2))
        add("jumanji JobShop (time-stepped)", jb, t, int(complete))

    print("(e) MLP policy: fused in the scan vs called from a Python loop")
    mlp_batches = [int(x) for x in args.mlp_batches.split(",")]
    hiddens = [int(x) for x in args.mlp_hidden.split(",")]
    for h in hiddens:
        model, policy, step = mlp_parts(h)
        w = model.init(jax.random.key(0), jnp.zeros((J, 4)))
        for b in mlp_batches:
            p = to_params(mach[:b], dur[:b])
            key = jax.random.key(0)
            us = np.random.default_rng(0).random((T, b)).astype(np.float32)
            t = best_time(lambda: rollout(policy, w, JSP_ENV, p, key, "sample").makespan.block_until_ready(), args.repeats)
            add(f"MLP h{h} fused in scan", b, t, b)
            add(f"MLP h{h} from a Python loop", b, best_time(lambda: python_loop_mlp(step, w, p, us), max(1, args.repeats // 2)), b)

    def get(name, batch):
        for r in rows:
            if r["row"] == name and r["batch"] == batch:
                return r["ops_per_s"]
        return None

    ratios = {}
    top = max(batches)
    jit_top = get("jit env", top)
    pairs = {
        f"jit env b{top} / numpy b{top}": (jit_top, get("numpy batched", top)),
        f"jit env b{top} / python one-at-a-time": (jit_top, get("python one-at-a-time", 1)),
        f"jit env b{top} / jumanji b{jb} (schedules/s)": (jit_top, get("jumanji JobShop (time-stepped)", jb)),
        f"rollout b{top} / jumanji b{jb} (schedules/s)": (get(ROLLOUT, top), get("jumanji JobShop (time-stepped)", jb)),
        "jit env b1 / python one-at-a-time": (get("jit env", 1), get("python one-at-a-time", 1)),
        f"rollout b{top} / numpy b{top}": (get(ROLLOUT, top), get("numpy batched", top)),
        "rollout b1 / python one-at-a-time": (get(ROLLOUT, 1), get("python one-at-a-time", 1)),
    }
    for b in batches:
        pairs[f"jit env b{b} / rollout b{b}"] = (get("jit env", b), get(ROLLOUT, b))
        pairs[f"jit env b{b} / greedy rollout b{b}"] = (get("jit env", b), get("jsched.rollout (greedy mode)", b))
    for h in hiddens:
        for b in mlp_batches:
            pairs[f"MLP h{h} fused / Python loop, b{b}"] = (get(f"MLP h{h} fused in scan", b), get(f"MLP h{h} from a Python loop", b))
    print("\nratios (same run)")
    for k, (a, b) in pairs.items():
        if a is not None and b is not None:
            ratios[k] = a / b
            print(f"  {k:<48} {a / b:10.1f}x")
    payload = {
        "claim": "rollout b1024 >= numpy, b1 >= python, within 1.5x of the jit env; MLP fused >= 20x Python loop at b1, >= 3x at b64",
        "shape": [J, O, M],
        "jax": jax.__version__,
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "xla_flags": os.environ.get("XLA_FLAGS"),
        "repeats": args.repeats,
        "rows": rows,
        "ratios": ratios,
        "command": command,
    }
    if args.json:
        from jsched.schedule import write_json_atomic

        write_json_atomic(args.json, payload)
        print(f"wrote {args.json}")
    return payload
