"""The contract between the construct (synth time) and the handler (deploy time).

Property names, attribute names and the validation rules live here once: what every kind shares
in ``common``, each kind's own in a module of its name. The construct imports this package to
validate literal props at synth time; the handler uses the same functions on the strings
CloudFormation sends, so a token that resolves to a bad value fails with the same words.
Pure Python: no boto3, no aws-cdk.
"""

from .backup_plan import *  # noqa: F403
from .common import *  # noqa: F403
from .copy import *  # noqa: F403
from .guard import *  # noqa: F403
from .quota import *  # noqa: F403
from .restore import *  # noqa: F403
from .restore_test import *  # noqa: F403
from .schedule_grammar import *  # noqa: F403
from .scheduled import *  # noqa: F403
from .snapshot import *  # noqa: F403
