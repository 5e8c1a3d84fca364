"""DANIEL (FJSP policy, PPO) and DF-Meta (derivative-free meta-learning, test-time ES, evosax).

Methods ``daniel`` (:mod:`.daniel_method`) and ``dfmeta`` (:mod:`.method`); the network in
:mod:`.daniel`, the ES loops in :mod:`.es`, SLIM as a base in :mod:`.slim_policy`, the
gradient baselines in :mod:`.baselines`.
"""
