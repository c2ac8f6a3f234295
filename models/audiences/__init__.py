"""Audiences built from customer values: value tiers and the segment CLV table."""
