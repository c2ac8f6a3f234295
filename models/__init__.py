"""Customer data, lifetime-value models and audiences: everything before the optimizer."""
