"""One router per resource: health, allocations, datasets and jobs."""
