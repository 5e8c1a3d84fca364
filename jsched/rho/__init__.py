"""L-RHO: rolling-horizon CP-SAT for long-horizon FJSP, its variants and the learned fixing model.

Modules: ``generators`` (makespan and delay settings, breakdown events), ``loop`` (the RHO loop
and every variant: default, warm, first, random, oracle, lrho; observation noise and machine
breakdowns), ``breakdown`` (breakdown events, validation against down windows), ``features`` (op/machine input features), ``net`` (flax network, checkpoints),
``collect`` (oracle labels over a process pool), ``train`` (training entry point).
"""
