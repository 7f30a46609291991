"""Demo 穗康码 for `make run`: the demo resident's own code and one applied for a parent, both verified by the
development identity provider (IDENTITY_BACKEND=fake matches these numbers). Idempotent."""
from app.errors import Conflict
from app.health_codes import service

# Made-up people; the numbers only pass the ID checks (and are not in the fake provider's mismatching set).
CODES = [("陈小明", "440106199003071231", "13800138000", "self"), ("陈大伟", "440106196208152242", None, "family")]


def seed(*, owner_id: int) -> list[str]:
    """Apply for the demo codes unless they exist; returns lines to print."""
    lines = []
    for name, number, phone, relation in CODES:
        try:
            code = service.apply(owner_id=owner_id, name=name, id_type="cn_resident_id", id_number=number,
                                 phone=phone, relation=relation, consent=True)
            lines.append(f"demo health code {code.id} ({relation}, verified) for the demo resident")
        except Conflict:
            lines.append(f"demo health code ({relation}) already there")
    return lines
