"""SQLAlchemy models describing the migrated schema (a test checks they agree with it).

``core`` holds the agencies, boundary sets, users, panels and audit; ``recording``, ``sharing``,
``packs``, ``access`` and ``meetings`` the tables their revisions added.
"""

# Every table's model registers on Base.metadata when the package is imported, so Alembic and
# the schema test see the whole schema .
from webmap.models import access as access
from webmap.models import meetings as meetings
from webmap.models import packs as packs
from webmap.models import recording as recording
from webmap.models import sharing as sharing
from webmap.models.core import SRID as SRID
from webmap.models.core import USER_ROLES as USER_ROLES
from webmap.models.core import Base as Base
