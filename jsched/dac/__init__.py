"""DAC for carbon-aware PFSP: the memetic algorithm driver, its PPO configurator and a static tuner.

Mencaroni, Reijnen, Zhang, Claeys (2026), "When does learning pay off? A study on DRL-based
dynamic algorithm configuration for carbon-aware scheduling", on MA-CAS-PFSP (Mencaroni 2025).
"""
