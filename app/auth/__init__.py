"""Accounts, roles, SMS and WeChat sign-in, tokens."""
