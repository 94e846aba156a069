"""Where bookings come from: iCalendar feeds, CSV files and PMSs pushing through the API ("sync stays")."""
