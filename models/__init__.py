"""Datasets, the synthetic portfolio, features, and the XGBoost risk model with its reason codes.

Never imports ``assistant``; configuration arrives as arguments.
"""
