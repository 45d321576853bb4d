"""Every protected endpoint refuses the anonymous caller (401) and the wrong role (403); integration endpoints
refuse a missing or wrong key."""

from __future__ import annotations

import pytest

from tests.backend.helpers import err

STUDENT_ENDPOINTS = [
    ("GET", "/api/me/profile"),
    ("PUT", "/api/me/profile"),
    ("GET", "/api/me/destination"),
    ("PUT", "/api/me/destination"),
    ("POST", "/api/me/destination/submit"),
    ("GET", "/api/me/archive"),
    ("PUT", "/api/me/archive"),
    ("POST", "/api/me/archive/submit"),
    ("GET", "/api/me/status"),
    ("GET", "/api/me/mailing"),
    ("POST", "/api/me/mailing"),
    ("GET", "/api/me/change-requests"),
    ("POST", "/api/me/change-requests"),
    ("GET", "/api/me/contact"),
    ("POST", "/api/me/wechat/bind-code"),
    ("GET", "/api/me/wechat"),
    ("DELETE", "/api/me/wechat"),
]
STAFF_ENDPOINTS = [
    ("GET", "/api/staff/records?kind=destination"),
    ("POST", "/api/staff/records/destination/1/review"),
    ("GET", "/api/staff/mailing"),
    ("POST", "/api/staff/mailing/1/ship"),
    ("POST", "/api/staff/mailing/1/deliver"),
    ("GET", "/api/staff/audit"),
    ("POST", "/api/staff/students/2025000001/credit-code-override"),
    ("GET", "/api/staff/knowledge"),
    ("POST", "/api/staff/knowledge"),
    ("GET", "/api/staff/knowledge/1"),
    ("PATCH", "/api/staff/knowledge/1"),
    ("DELETE", "/api/staff/knowledge/1"),
]
INTEGRATION_ENDPOINTS = [
    ("POST", "/api/integration/national/confirmations"),
    ("POST", "/api/integration/wechat/bind"),
    ("POST", "/api/integration/wechat/token"),
    ("DELETE", "/api/integration/wechat/bind"),
    ("GET", "/api/integration/knowledge"),
    ("POST", "/api/nlg"),
    ("GET", "/api/nlg/responses"),  # Rasa's NLG routes (issue 21 §9)
]
BODIES = {
    "/api/staff/records/destination/1/review": {"approve": True, "version": 1},
    "/api/staff/mailing/1/ship": {"ems_no": "1151234567890"},
    "/api/staff/students/2025000001/credit-code-override": {"credit_code": "91350100M000100Y43"},
    "/api/me/change-requests": {"kind": "personal_info", "changes": {}},
    "/api/integration/national/confirmations": {"student_id": "2025000004"},
    "/api/integration/wechat/bind": {"openid": "o", "code": "123456"},
    "/api/staff/knowledge": {"questions": ["档案放哪里比较好"], "answer": "a", "source": "b"},
    "/api/staff/knowledge/1": {"base_version": 1, "answer": "a"},
    "/api/integration/wechat/token": {"openid": "o"},
    "/api/nlg": {"response": "utter_faq/login", "tracker": {"slots": {}}},
}


@pytest.mark.parametrize("method,path", STUDENT_ENDPOINTS)
def test_student_endpoints(srv, method, path):
    body = BODIES.get(path, {})
    with srv.client() as anon:
        err(anon.request(method, path, json=body), 401, "not_authenticated")
    for staff in ("counselor-physics", "school-admin"):
        with srv.staff(staff) as s:
            err(s.request(method, path, json=body), 403, "forbidden")


@pytest.mark.parametrize("method,path", STAFF_ENDPOINTS)
def test_staff_endpoints(srv, method, path):
    body = BODIES.get(path, {})
    with srv.client() as anon:
        err(anon.request(method, path, json=body), 401, "not_authenticated")
    with srv.student("2025000001") as st:
        err(st.request(method, path, json=body), 403, "forbidden")


@pytest.mark.parametrize("method,path", INTEGRATION_ENDPOINTS)
def test_integration_endpoints(srv, method, path):
    body = BODIES.get(path, {})
    with srv.client() as anon:
        err(anon.request(method, path, json=body), 401, "not_authenticated")
        err(
            anon.request(method, path, json=body, headers={"X-Integration-Key": "nope"}),
            401,
            "not_authenticated",
        )
    with srv.student("2025000001") as st:
        err(st.request(method, path, json=body), 401, "not_authenticated")
