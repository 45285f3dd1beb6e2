"""Safety data lab: ingestion, call-type taxonomy, geography, measures, hot spots, gaps."""
