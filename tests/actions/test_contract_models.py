"""The contract check itself (actions/backend.CONTRACT): every response model the actions read refuses a
body of the wrong JSON shape with pydantic's ValidationError, never another exception. Another exception
escaped the check once (ArchiveOut's flattening read `.state` of a list): the action server answered Rasa 500
instead of "个人查询功能暂时不可用", on the runs where the archive answer arrived before the status answer."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from actions.backend import CONTRACT

WRONG_SHAPES = [[], [{}], "维护中", 1, 1.5, True, None]


@pytest.mark.parametrize("route", sorted(CONTRACT), ids=lambda r: f"{r[0]} {r[1]}")
@pytest.mark.parametrize("body", WRONG_SHAPES, ids=repr)
def test_a_body_of_the_wrong_shape_is_a_validation_error(route, body):
    with pytest.raises(ValidationError):
        CONTRACT[route].model_validate(body)
