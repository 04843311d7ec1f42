"""Reports for people: the portfolio report, site profiles and the quarterly monitoring report."""
