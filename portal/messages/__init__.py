"""The communication log (D8): every e-mail sent, stored against whom and what it concerns."""
