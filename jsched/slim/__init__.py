"""SLIM: the self-labelling pointer network for the JSP (Corsini et al., NeurIPS 2024).

Modules: ``features`` (15 operation and 11 context features, pure jax), ``graph`` (disjunctive
graph edges, padding), ``model`` (GATv2 encoder + memory network + classifier, flax linen),
``decode`` (greedy / sampling rollouts as one ``jit(vmap(vmap(scan)))``, the policy interface),
``checkpoint`` (msgpack with version, config and checksum), ``train`` (self-labelling),
``method`` (``jsched solve --method slim``) and ``eval`` (Taillard / Demirkol tables).
"""
