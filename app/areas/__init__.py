"""地缘: district → street/town → community/village → grid."""
