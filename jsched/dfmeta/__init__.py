"""DF-Meta (ICLR 2026): derivative-free meta-learning and test-time ES adaptation, with evosax.

Modules:
    es             inner ES loop (NES / MC-Mean / MC-Best), first-order outer loop, sharding
    adapt          policy rollouts for the ES and per-instance test-time adaptation
    daniel         DANIEL dual-attention FJSP policy (flax linen), observation, EAS layer
    fjsp_env       the FJSP kernel as a PPO environment (DANIEL reward)
    train_policy   ``jsched train fjsp-policy``: PPO training of DANIEL
    train          ``jsched train dfmeta``: meta-training of theta_0
    baselines      Active Search, EAS, FOMAML
    method         ``jsched solve --method dfmeta``; daniel_method: ``--method daniel``
    checkpoint     versioned msgpack checkpoints
"""
