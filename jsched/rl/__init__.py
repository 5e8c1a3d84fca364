"""Reinforcement learning shared by jsched methods: one PPO (``ppo``)."""
