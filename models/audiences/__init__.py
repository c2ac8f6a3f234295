"""Audiences built from customer values: value tiers and the segment CLV table, the MVC
profile, lookalike audiences, segments on the move, detargeting and the audience plan."""
