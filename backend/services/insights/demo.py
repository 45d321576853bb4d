"""Demo turns and feedback (`make run`, the eval), marked with DEMO_PREFIX."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock

# --- demo data ---------------------------------------------------------------------------------------------
DEMO_PREFIX = "demo:"
# (days ago, hour, student or None, question, intent, confidence, answer key, fallback, handoff)
DEMO_TURNS = [
    (0, 9, None, "学校平台怎么登录", "faq", 0.97, "utter_faq/login", False, False),
    (
        0,
        9,
        "2025000002",
        "我的毕业去向审核到哪一步了",
        "check_status",
        0.95,
        "action_check_status",
        False,
        False,
    ),
    (0, 10, None, "两级审核通过后多久同步到国家平台", "faq", 0.93, "utter_faq/sync_timing", False, False),
    (0, 10, "2025000003", "审核没通过怎么办", "faq", 0.88, "utter_faq/rejected", False, False),
    (0, 11, None, "奖学金什么时候发", "nlu_fallback", 0.21, "utter_default", True, False),
    (0, 14, "2025000005", "帮我申请档案邮寄", "apply_mailing", 0.96, "action_mailing_check", False, False),
    (0, 15, None, "档案可以寄到我家吗", "faq", 0.91, "utter_faq/home_address", False, False),
    (0, 16, "2025000004", "找辅导员", "handoff", 0.92, "action_handoff", False, True),
    (1, 9, None, "档案转寄类型有哪些", "faq", 0.95, "utter_faq/archive_types_overview", False, False),
    (1, 9, None, "出国留学档案怎么办", "faq", 0.47, "utter_faq/type_other_cases", False, False),
    (1, 10, "2025000001", "个人信息完善要填什么", "faq", 0.9, "utter_faq/personal_info", False, False),
    (1, 11, None, "毕业证什么时候能领", "nlu_fallback", 0.18, "utter_default", True, False),
    (1, 13, "2025000006", "档案寄出了吗", "check_status", 0.9, "action_check_status", False, False),
    (1, 15, None, "学校平台怎么登录", "faq", 0.96, "utter_faq/login", False, False),
    (1, 16, None, "转人工", "handoff", 0.99, "action_handoff", False, True),
    (2, 9, None, "国家平台在哪确认", "faq", 0.86, "utter_faq/national_confirm", False, False),
    (2, 10, "2025000007", "什么时候能申请档案邮寄", "mailing_when", 0.94, "utter_mailing_when", False, False),
    (2, 10, None, "违约金怎么算", "nlu_fallback", 0.25, "utter_default", True, False),
    (2, 14, None, "单位地址填错了怎么改", "change_unit_info", 0.55, "action_change_advice", False, False),
    (
        2,
        15,
        "2025000002",
        "签了新公司之前那家不去了",
        "change_unit",
        0.91,
        "action_change_advice",
        False,
        False,
    ),
    (3, 9, None, "档案能自己带走吗", "faq", 0.89, "utter_faq/hand_carry", False, False),
    (3, 10, None, "户口迁移地址怎么填", "faq", 0.52, "utter_faq/hukou_choices", False, False),
    (3, 11, None, "三方协议丢了", "faq", 0.83, "utter_faq/lost_tripartite", False, False),
    (3, 14, "2025000003", "老师电话多少", "handoff", 0.9, "action_handoff", False, True),
    (3, 16, None, "就业推荐表在哪打印", "nlu_fallback", 0.3, "utter_default", True, False),
    (4, 9, None, "学校平台怎么登录", "faq", 0.97, "utter_faq/login", False, False),
    (4, 10, None, "审核要多久", "faq", 0.58, "utter_faq/review_levels", False, False),
    (4, 11, "2025000005", "档案邮寄要钱吗", "faq", 0.9, "utter_faq/mailing_cost", False, False),
    (4, 15, None, "档案转寄类型有哪些", "faq", 0.94, "utter_faq/archive_types_overview", False, False),
]
# (days ago, hour, student or None, question, answer key, rating, reason, comment)
DEMO_FEEDBACK = [
    (0, 11, None, "奖学金什么时候发", "utter_default", "down", "答非所问", "想问奖学金，不是毕业手续"),
    (0, 15, None, "档案可以寄到我家吗", "utter_faq/home_address", "up", None, None),
    (
        1,
        9,
        None,
        "出国留学档案怎么办",
        "utter_faq/type_other_cases",
        "down",
        "内容缺失",
        "希望写清楚出国的情况选哪种",
    ),
    (
        2,
        9,
        None,
        "国家平台在哪确认",
        "utter_faq/national_confirm",
        "down",
        "没有帮助",
        "没有给国家平台的网址",
    ),
    (2, 10, "2025000007", "什么时候能申请档案邮寄", "utter_mailing_when", "up", None, None),
    (3, 10, None, "户口迁移地址怎么填", "utter_faq/hukou_choices", "down", "事实错误", None),
    (4, 11, "2025000005", "档案邮寄要钱吗", "utter_faq/mailing_cost", "up", None, None),
]


def seed_demo(s: Session) -> dict:
    """A few days of realistic logged questions and feedback, relative to today (replaces earlier demo
    rows)."""
    s.execute(delete(M.TurnLog).where(M.TurnLog.conversation.like(DEMO_PREFIX + "%")))
    s.execute(delete(M.Feedback).where(M.Feedback.conversation.like(DEMO_PREFIX + "%")))
    today = clock.today()
    students = set(s.scalars(select(M.Student.id)))

    now = clock.now()

    def at(days_ago: int, hour: int, i: int) -> dt.datetime:  # on its own day, never in the future
        day = today - dt.timedelta(days=days_ago)
        t = dt.datetime.combine(day, dt.time(hour, (i * 7) % 60), clock.TZ)
        # just after midnight "today, 11:00" is still ahead: the turn moves back towards now but not into
        # yesterday (the staff page's "today" view and its test ran on the time of day)
        return max(
            dt.datetime.combine(day, dt.time.min, clock.TZ),
            min(t, now - dt.timedelta(minutes=5 * (len(DEMO_TURNS) - i))),
        )

    for i, (d, h, sid, q, intent, conf, key, fb, ho) in enumerate(DEMO_TURNS):
        s.add(
            M.TurnLog(
                at=at(d, h, i),
                channel="wechat" if i % 4 == 3 else "web",
                conversation=f"{DEMO_PREFIX}{sid or 'anon'}-{d}-{i}",
                student_id=sid if sid in students else None,
                question=q,
                intent=intent,
                confidence=conf,
                answer_key=key,
                fallback=fb,
                handoff=ho,
            )
        )
    answers = {a.key: a for a in s.scalars(select(M.Answer))}
    for i, (d, h, sid, q, key, rating, reason, comment) in enumerate(DEMO_FEEDBACK):
        ans = answers.get(key)
        text = (ans.variations[0].get("text") or "") if ans else ""
        s.add(
            M.Feedback(
                at=at(d, h, i) + dt.timedelta(minutes=1),
                channel="web",
                conversation=f"{DEMO_PREFIX}fb-{i}",
                message_id=f"demo-{i}",
                student_id=sid if sid in students else None,
                question=q,
                answer=text,
                answer_key=key,
                rating=rating,
                reason=reason,
                comment=comment,
            )
        )
    s.commit()
    return {"demo_turns": len(DEMO_TURNS), "demo_feedback": len(DEMO_FEEDBACK)}
