"""Who is acting, as a service needs to know it: an id, an agency and a role.

Services take an :class:`Actor`, never the signed-in Flask-Login user, so they run the same for
a request, the CLI or a test, and cannot reach into the web session by accident.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A user acting for their agency in one of the roles of DESIGN.md §2.

    >>> a = Actor(uuid.UUID(int=1), uuid.UUID(int=2), "analyst")
    >>> a.role, str(a.agency_id)[-1]
    ('analyst', '2')
    """

    id: uuid.UUID
    agency_id: uuid.UUID
    role: str
