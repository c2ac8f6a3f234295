"""What-if scenario files: the one place that joins models/ and optimizer/."""
