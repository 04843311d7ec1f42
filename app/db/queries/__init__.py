"""Query builders: every consumer that selects parcels starts from :mod:`.parcels`."""
