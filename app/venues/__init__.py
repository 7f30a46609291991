"""场所码: venues, their staff and posters; scans and check-ins; tracing; retention."""
