"""Violation notices: staff record a breach of the house rules on a lease or a booking; the occupant
acknowledges or disputes it (portal or one-time link); staff resolve or withdraw it."""
