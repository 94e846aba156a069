"""What an owner's portal reads about their units (P-O): bookings and leases with their occupants,
occupancy by month, what is new since their last visit, and the visits themselves."""
