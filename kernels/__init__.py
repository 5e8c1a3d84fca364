"""In-graph kernels: pure, jittable, vmappable environments, rules and decoders (jax + chex only)."""
