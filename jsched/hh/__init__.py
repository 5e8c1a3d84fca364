"""Petri-net hyper-heuristic PPO for the JSP (shared/specs/hh.md).

Modules: ``env`` (the rule-selection MDP with commitment over ``jsched.kernels.petri``), ``agent``
(policy rollouts, loading shipped agents), ``train`` (``jsched train hh``), ``eval``
(``jsched eval hh``), ``method`` (``jsched solve --method hh``), ``render`` (marking pictures),
``pynet`` (a plain-Python reference net), ``instances`` (Taillard groups).
"""
