"""The answer every route that sends an invitation gives (groups, venues), whoever the invitee is."""
from flask import Response, current_app

from app.invitations.schemas import INVITED


def sent() -> Response:
    """202 {"message": "已发送邀请"}: the one answer of every route that sends an invitation."""
    response = current_app.json.response({"message": INVITED})
    response.status_code = 202
    return response
