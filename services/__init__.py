"""Use cases over the database; the service layer owns transactions and authorization."""
