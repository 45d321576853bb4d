"""Field validation: national check algorithms and the school's archive rules.

Every check returns a list of `FieldError` (field path, machine code, Chinese message saying what is wrong
and how to fix it). Nothing here touches the database.
"""

from __future__ import annotations

from backend.validators.checks import (
    CREDIT_ALPHABET,
    CREDIT_WEIGHTS,
    EMAIL_RE,
    EMS_RE,
    ID_WEIGHTS,
    LANDLINE_RE,
    MOBILE_RE,
    PROFILE_MAX,
    WECHAT_RE,
    FieldError,
    check_credit_code,
    check_email,
    check_id_number,
    check_mobile,
    check_not_home,
    check_phone,
    check_postal_code,
    check_precise_address,
    check_recipient,
    credit_code_check_char,
    id_check_digit,
    is_kinship,
    province_of,
)
from backend.validators.forms import (
    check_ems,
    validate_archive,
    validate_destination,
    validate_profile,
    validate_unit,
)

__all__ = [
    "FieldError",
    "CREDIT_ALPHABET",
    "CREDIT_WEIGHTS",
    "credit_code_check_char",
    "check_credit_code",
    "ID_WEIGHTS",
    "id_check_digit",
    "check_id_number",
    "MOBILE_RE",
    "LANDLINE_RE",
    "EMAIL_RE",
    "WECHAT_RE",
    "EMS_RE",
    "check_mobile",
    "check_phone",
    "check_email",
    "province_of",
    "check_postal_code",
    "check_precise_address",
    "check_not_home",
    "is_kinship",
    "check_recipient",
    "PROFILE_MAX",
    "validate_profile",
    "validate_unit",
    "validate_destination",
    "validate_archive",
    "check_ems",
]
