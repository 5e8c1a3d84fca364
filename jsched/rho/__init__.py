"""RHO and L-RHO: rolling-horizon CP-SAT for long-horizon FJSP and its learned fixing model.

``method`` (the ``rho`` / ``lrho`` methods), ``loop`` (the RHO loop and its variants), ``net``
(the network), ``features``, ``collect`` (oracle labels), ``train``, ``generators`` (the paper's
instance settings) and ``breakdown`` (machine breakdown events).
"""
