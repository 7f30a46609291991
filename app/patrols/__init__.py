"""Patrols (巡逻): sign-ups, check-in and check-out, certified hours, points, leaderboards, notifications."""
