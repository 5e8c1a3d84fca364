"""SLIM: the self-labelling pointer network for the JSP (Corsini et al., NeurIPS 2024).

``features`` and ``graph`` build the network's inputs, ``model`` is the network and its model
file, ``decode`` the jitted greedy/sampling constructions, ``method`` the solver and ``train``
the self-labelling trainer.
"""
