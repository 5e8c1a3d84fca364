"""Petri-net hyper-heuristic PPO for the JSP (Lassoued & Schwung 2024).

Modules: ``env`` (the rule-selection MDP with commitment over ``jsched.kernels.petri``), ``agent``
(the policy, its rollouts and agent files), ``method`` (``solve``/``evaluate``), ``train``,
``render`` (marking pictures), ``instances`` (Taillard groups).
"""
