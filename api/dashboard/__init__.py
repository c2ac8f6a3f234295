"""The browser dashboard: sign-in, datasets, segments, runs and their reports."""
