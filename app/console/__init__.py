"""后台管理: the staff console, a set of pages under /console/ that work through the public API."""
