"""Work orders (D6): requests for repairs and cleaning, and their life cycle."""
