"""Small pure helpers used by several domains."""
