"""Files the ad platforms accept as they are: Google Customer Match and Meta customer lists
(identifiers normalised and hashed by each platform's rules), and what goes with them."""
