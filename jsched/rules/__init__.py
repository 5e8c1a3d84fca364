"""Dispatching rules as methods (``--method spt``, ...) and the all-rules table (``jsched rules SET``).

The rules themselves are pure priority functions in :mod:`jsched.kernels.rules`.
"""
