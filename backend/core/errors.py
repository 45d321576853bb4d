"""One error body shape for every 4xx: {"code", "message", "fields"?}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.validators import FieldError


class APIError(Exception):
    def __init__(
        self, status: int, code: str, message: str, fields: list[FieldError] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields, self.extra = status, code, message, fields, extra

    def body(self) -> dict:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields is not None or self.status == 422:
            body["fields"] = [f.dict() for f in (self.fields or [])]
        body.update(self.extra)
        return body


def invalid(fields: list[FieldError], message: str | None = None) -> APIError:
    msg = message or "；".join(f.message for f in fields[:3]) or "输入有误"
    return APIError(422, "validation_error", msg, fields)


def wrong_state(message: str, **extra: Any) -> APIError:
    return APIError(409, "wrong_state", message, **extra)


def not_found(message: str = "没有找到对应的记录。") -> APIError:
    return APIError(404, "not_found", message)


def forbidden(message: str = "您没有权限进行此操作。") -> APIError:
    return APIError(403, "forbidden", message)


_LOC_LABELS = {"body": "请求内容", "query": "查询参数", "path": "路径参数", "header": "请求头"}


def _label(field: str) -> str:
    from contracts import vocabulary as V

    labels = {
        **V.PERSONAL_FIELDS,
        **V.ARCHIVE_FIELDS,
        **{f"unit.{k}": v for k, v in V.UNIT_FIELDS.items()},
        "destination_type": "毕业去向类型",
        "unit": "单位信息",
        "ems_no": "EMS单号",
        "reason": "审核意见",
        "approve": "审核结果",
        "student_id": "学号",
        "confirmed_on": "确认日期",
        "kind": "修改类型",
        "changes": "修改内容",
        "credit_code": "统一社会信用代码",
        "openid": "微信OpenID",
        "code": "绑定码",
        "version": "记录版本（审核时打开的版本号）",
    }
    return labels.get(field, field)


def _pydantic_fields(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path", "header")]
        field = ".".join(loc) or "body"
        label = _label(field)
        typ = err.get("type", "")
        if typ == "missing":
            msg = f"缺少必填项“{label}”，请补充。"
        elif field == "body" or typ == "json_invalid":
            msg = "请求内容不是有效的JSON对象，请检查格式。"
        elif typ in ("model_attributes_type", "dict_type", "model_type"):
            msg = f"“{label}”应为对象（键值对），请按接口文档填写。"
        elif typ in ("string_too_long", "too_long"):
            msg = f"“{label}”太长了，请精简。"
        elif typ in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            msg = f"“{label}”超出允许的范围。"
        elif "type" in typ or typ.endswith("_parsing"):
            msg = f"“{label}”的格式不正确，请按接口文档填写。"
        elif typ == "extra_forbidden":
            msg = f"不认识的字段“{field}”，请删去。"
        else:
            msg = f"“{label}”的值不正确，请检查后重试。"
        out.append(FieldError(field, typ or "invalid", msg))
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.status == 429 and "retry_after" in exc.extra:
            headers = {"Retry-After": str(exc.extra["retry_after"])}
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _pydantic_fields(exc)
        return JSONResponse(
            {
                "code": "validation_error",
                "message": fields[0].message if fields else "输入有误",
                "fields": [f.dict() for f in fields],
            },
            status_code=422,
        )

    @app.exception_handler(StaleDataError)
    async def _stale(_: Request, exc: StaleDataError) -> JSONResponse:
        # safety net: an UPDATE found its row changed since it was read (version counter); nothing was saved
        return JSONResponse(
            {"code": "conflict", "message": "记录刚被其他操作更新，请刷新后重试。"}, status_code=409
        )

    @app.exception_handler(RecursionError)
    async def _too_deep(_: Request, exc: RecursionError) -> JSONResponse:
        # safety net behind the body guard's depth check (backend/main.py): a 4xx, no traceback in the log
        msg = "请求内容的嵌套层数太多，请检查格式。"
        return JSONResponse(
            {
                "code": "too_deep",
                "message": msg,
                "fields": [{"field": "body", "code": "too_deep", "message": msg}],
            },
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - safety net
        logging.getLogger("backend").exception("unhandled error", exc_info=exc)
        return JSONResponse(
            {
                "code": "internal_error",
                "message": "服务器内部错误，请稍后重试；如持续出现请联系学院就业工作负责老师。",
            },
            status_code=500,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            404: ("not_found", "没有这个接口或记录。"),
            405: ("method_not_allowed", "不支持这种请求方法。"),
        }
        code, msg = codes.get(exc.status_code, ("http_error", str(exc.detail)))
        return JSONResponse({"code": code, "message": msg}, status_code=exc.status_code)
