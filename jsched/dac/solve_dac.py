"""``jsched solve FILE.cas --method ma-dac``: the MA with parameters set every generation by a
trained DAC policy (greedy: the clipped Gaussian mean), by default the shipped one in
``jsched/assets/dac/policy.msgpack``; ``--policy FILE`` uses another (e.g. from ``jsched train dac``).
"""

from __future__ import annotations

import argparse
from functools import partial

import jax
import numpy as np

from jsched.dac import env as E
from jsched.dac import ma
from jsched.dac.solve_ma import add_common, check_common, output
from jsched.dac.train import greedy_policy_fn, load_policy
from jsched.methods import SolveOutput


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy", help="DAC policy file (default: the shipped policy)")
    add_common(p)


@partial(jax.jit, static_argnames=("settings",))
def run_dac_batch(keys, params, net_params, settings: E.DACSettings):
    """DAC-controlled MA runs: ``keys`` (I, R, 2) over ``params`` stacked over I instances.

    Returns the best (job keys, pause keys, fitness) per (instance, run), the best-so-far
    curves (I, R, n_gen + 1) and the chosen actions (I, R, n_gen, 7).
    """
    policy = greedy_policy_fn(net_params)

    def one(key, p):
        pop, curve, actions = E.run_policy(key, p, policy, settings)
        i = pop.fitness.argmin()
        return (pop.job_keys[i], pop.pause_keys[i], pop.fitness[i]), curve, actions

    return jax.vmap(jax.vmap(one, in_axes=(0, None)), in_axes=(0, 0))(keys, params)


def solve_dac(inst, net_params, seed=0, n_gen=ma.GENERATIONS, pop_size=ma.POP_SIZE, ls_steps=ma.LS_STEPS):
    p = ma.pfsp_params(inst)
    keys = jax.random.split(jax.random.key(seed), 1)[None]
    settings = E.DACSettings(n_gen, pop_size, ls_steps)
    (jk, pk, _), curve, actions = run_dac_batch(keys, jax.tree.map(lambda x: x[None], p), net_params, settings)
    res = ma.finish(inst, p, jk[0, 0], pk[0, 0], curve[0, 0])
    return res, np.asarray(E.action_to_values(actions[0, 0]))


def solve(instance, args) -> SolveOutput:
    check_common(args)
    net_params, config = load_policy(args.policy)
    res, params = solve_dac(instance, net_params, args.seed, args.generations, args.pop_size)
    extra = {
        "policy": args.policy or "shipped",
        "policy_generations_trained": config.get("generations_trained"),
        "params_per_generation": {k: np.round(params[:, i], 4).tolist() for i, k in enumerate(ma.K.PARAM_NAMES)},
    }
    return output(instance, res, args, extra)
