"""jsched: a JAX-native solver suite for shop scheduling (JSP, FJSP, PFSP).

Two layers: ``kernels`` (pure, jittable, vmappable environments and decoders) and
``jsched`` (instances, models, training loops, CP-SAT, CLI). See DESIGN in the README.
"""

__version__ = "0.1.0"
