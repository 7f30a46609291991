"""Invitations in tests: the invitee's pending invitations, and accepting the one a manager just sent."""


def pending(client, headers) -> list[dict]:
    """The invitee's pending invitations, newest first."""
    r = client.get("/api/v1/me/invitations", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def accept_latest(client, headers, kind: str) -> dict:
    """Accept the invitee's newest pending invitation of this kind; returns the answered invitation."""
    invitation = next(i for i in pending(client, headers) if i["kind"] == kind)
    r = client.post(f"/api/v1/me/invitations/{invitation['id']}/accept", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def bind_inspector(client, venue_id, manager_headers, phone: str, invitee_headers) -> None:
    """A venue's manager invites the account with this phone, which accepts: an inspector of the venue."""
    r = client.post(f"/api/v1/venues/{venue_id}/staff", json={"phone": phone}, headers=manager_headers)
    assert r.status_code == 202, r.get_json()
    accept_latest(client, invitee_headers, "venue_staff")
