"""Business rules, one module per resource:

- `common`: timestamps, the audit log, loading and locking a student, staff scope
- `records`: 个人信息完善, 毕业去向登记, 户档信息登记 (one generic save/submit driven by a `RecordSpec`)
- `changes`: the four change paths; `review`: the two-level review, staff listings, audit log, overrides
- `status`: sync, national confirmation, the assistant's status; `mailing`: 档案邮寄申请; `wechat`: binding
  codes
- `knowledge`: the knowledge base staff grow (entries, versions, retirement, Rasa's snapshot, the training
  export)

The names below are what modules outside the package use (notices, answers, seed, the CLI and routers).
"""

from __future__ import annotations

from backend.services.common import SYSTEM, audit, get_student, lock_student, ts
from backend.services.mailing import eligibility
from backend.services.records import get_archive, get_destination
from backend.services.status import confirm_national, sync_info
from backend.services.wechat.codes import binding

__all__ = [
    "SYSTEM",
    "audit",
    "binding",
    "confirm_national",
    "eligibility",
    "get_archive",
    "get_destination",
    "get_student",
    "lock_student",
    "sync_info",
    "ts",
]
