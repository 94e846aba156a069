"""Insurance quotes: staff offer cover on a lease or a booking; the occupant accepts it (portal or one-time
link), which makes the premium a charge they pay through the usual pay flow."""
