"""广州街坊: volunteer profiles, trades and interests, groups and membership, search, stats, import and export."""
