"""`make demo`: the seed plan's year, end to end, through all four services."""
