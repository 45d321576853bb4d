"""The staff answers page (issue 14 §1) in a real headless Chromium against the real backend: sign-in, edit
live on the NLG endpoint, validation, history and rollback, counselors read-only, keyboard only, a phone-sized
screen."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.backend.helpers import INTEGRATION_KEY, start_backend, stop_backend
from tests.web.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
KEY = "utter_faq/login"
DOMAIN_TEXT = "打开北京理工大学就业信息网（job.bit.edu.cn）"


@pytest.fixture(scope="module")
def backend(tmp_path_factory, browser):
    srv = start_backend(
        f"sqlite:///{tmp_path_factory.mktemp('staff-web')}/app.db", tmp_path_factory.mktemp("sw")
    )
    yield srv
    stop_backend(srv)


def nlg_text(srv) -> str:
    r = httpx.post(
        f"{srv.base}/api/nlg",
        json={"response": KEY, "tracker": {"slots": {}}, "channel": {"name": "rest"}},
        trust_env=False,
        headers={"X-Integration-Key": INTEGRATION_KEY},
    )
    return r.json()["text"]


def open_login_answer(page):
    page.get_by_label("搜索回答（名称或内容）").fill("统一身份认证")
    page.get_by_role("button", name="搜索").click()
    page.get_by_role("list", name="回答列表").get_by_role(
        "button", name=re.compile("常见问题 · login ·")
    ).click()
    expect(page.get_by_role("heading", name="常见问题 · login")).to_be_focused()


def test_school_staff_edit_live_then_roll_back(make_page, backend):
    page = make_page()
    sign_in(page, backend)
    expect(page.locator("#who")).to_contain_text("学校就业指导中心")
    open_login_answer(page)
    box = page.get_by_label("回答内容", exact=True)
    expect(box).to_have_value(re.compile(re.escape(DOMAIN_TEXT)))
    source = page.get_by_label("出处（显示在回答下方，例如流程文档的章节）")
    expect(source).to_have_value("《学校平台操作流程》一、学校平台登记 第1步")
    box.fill("浏览器里改的：登录请点“统一身份认证”。")
    page.get_by_label("修改说明（可选）").fill("更简洁")
    page.get_by_role("button", name="保存并立即生效").click()
    expect(page.get_by_role("status").filter(has_text="已保存为第2版")).to_be_visible()
    assert nlg_text(backend).startswith("浏览器里改的")  # what Rasa gets on the next turn
    history = page.get_by_role("list", name="历史版本")
    expect(history.get_by_role("listitem").first).to_contain_text("第2版")
    expect(history.get_by_role("listitem").first).to_contain_text("更简洁")
    expect(page.get_by_role("list", name="回答列表").get_by_text("已修改")).to_be_visible()
    history.get_by_role("button", name="恢复第1版").click()
    expect(page.get_by_role("status").filter(has_text="已恢复第1版")).to_be_visible()
    expect(box).to_have_value(re.compile(re.escape(DOMAIN_TEXT)))
    assert nlg_text(backend).startswith(DOMAIN_TEXT)


def test_bad_edit_shows_the_reason_at_the_field_and_saves_nothing(make_page, backend):
    page = make_page()
    sign_in(page, backend)
    open_login_answer(page)
    box = page.get_by_label("回答内容", exact=True)
    before = nlg_text(backend)
    box.fill("你好{nmae}，请登录")
    page.get_by_role("button", name="保存并立即生效").click()
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_be_focused()
    expect(page.locator("#var-0-err")).to_contain_text("变量{nmae}不存在")
    expect(page.get_by_role("status").filter(has_text="未保存")).to_be_visible()
    box.fill("   ")
    page.get_by_role("button", name="保存并立即生效").click()
    expect(page.locator("#var-0-err")).to_contain_text("不能为空")
    assert nlg_text(backend) == before


def test_counselor_reads_only(make_page, backend):
    page = make_page()
    sign_in(page, backend, "counselor-physics")
    expect(page.locator("#who")).to_contain_text("物理学院")
    open_login_answer(page)
    box = page.get_by_label("回答内容", exact=True)
    expect(box).to_have_attribute("readonly", "")
    expect(page.get_by_text("您是学院老师，可以查看回答")).to_be_visible()
    expect(page.get_by_role("button", name="保存并立即生效")).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("^恢复第"))).to_have_count(0)


def test_student_token_is_refused(make_page, backend):
    page = make_page()
    token = backend.token(student_id="2025000005")
    page.goto(f"{backend.base}/staff/")
    page.evaluate("t => sessionStorage.setItem('zz.staff.token', t)", token)
    page.reload()
    expect(page.get_by_role("alert")).to_contain_text("仅供学院和学校就业工作老师使用")
    expect(page.get_by_role("region", name="回答管理")).to_be_hidden()


def test_keyboard_only(make_page, backend):
    page = make_page()
    page.goto(f"{backend.base}/staff/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到主要内容")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("工作人员账号（演示）")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="登录")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile("^已登录："))).to_be_visible()
    # after sign-in the focus is on the main content; then the search field, its button, the answers
    expect(page.locator("#main")).to_be_focused()
    search = page.get_by_label("搜索回答（名称或内容）")
    page.keyboard.press("Tab")
    expect(search).to_be_focused()
    page.keyboard.type("统一身份认证")
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile("找到 \\d+ 条"))).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('#answer-list') !== null")
    assert focused, "the first answer follows the search button in the tab order"
    page.keyboard.press("Enter")
    expect(page.locator("#editor-h")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#var-0")).to_be_focused()
    # focus is visible (an outline) on the focused control
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_phone_screen(make_page, backend):
    page = make_page(390, 844)
    sign_in(page, backend)
    open_login_answer(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    lst = page.get_by_role("list", name="回答列表").bounding_box()
    editor = page.locator("#editor").bounding_box()
    assert editor["y"] >= lst["y"] + lst["height"] - 1, "list and editor are stacked on a phone"
    save = page.get_by_role("button", name="保存并立即生效")
    save.scroll_into_view_if_needed()
    box = save.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= 390


def test_questions_and_feedback_page_school(make_page, backend):
    page = make_page()
    sign_in(page, backend)
    page.get_by_role("link", name="学生提问与反馈").click()
    expect(page.get_by_role("heading", name="学生提问与反馈", exact=True)).to_be_focused()
    expect(page.get_by_role("link", name="学生提问与反馈")).to_have_attribute("aria-current", "page")
    expect(page.locator("#totals")).to_contain_text("未能回答")
    unanswered = page.locator("#unanswered table")
    expect(unanswered).to_contain_text("奖学金什么时候发")  # demo data: a few days of logged questions
    expect(unanswered.get_by_role("columnheader", name="问题")).to_be_visible()
    expect(page.locator("#low")).to_contain_text("出国留学档案怎么办")
    expect(page.locator("#handoffs")).to_contain_text("转人工")
    down = page.locator("#down")
    expect(down).to_contain_text("答非所问")
    expect(down).to_contain_text("没有给国家平台的网址")
    expect(page.locator("#reasons")).to_contain_text("内容缺失 1")
    expect(page.locator("#top-week li").first).to_contain_text("次）")
    page.get_by_label("时间范围").select_option("1")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("status").filter(has_text="已显示今天的数据")).to_be_visible()
    expect(page.locator("#low")).not_to_contain_text("出国留学档案怎么办")  # a demo question of yesterday
    with page.expect_download() as dl:
        page.get_by_role("button", name="导出提问（CSV）").click()
    content = open(dl.value.path(), encoding="utf-8").read()
    assert content.startswith("\ufeff时间,渠道,学号,问题") and "奖学金什么时候发" in content


def test_questions_page_counselor_sees_own_college_only(make_page, backend):
    page = make_page()
    sign_in(page, backend, "counselor-physics")
    page.goto(f"{backend.base}/staff/#questions")
    expect(page.locator("#questions-scope")).to_contain_text("只显示物理学院已登录学生")
    page.get_by_label("时间范围").select_option("30")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("status").filter(has_text="最近30天")).to_be_visible()
    body = page.locator("#questions")
    expect(body).to_contain_text("2025000004")  # a physics student's request for a person
    expect(body).not_to_contain_text("奖学金什么时候发")  # anonymous
    expect(body).not_to_contain_text("2025000002")  # computer college


def test_questions_page_on_a_phone(make_page, backend):
    page = make_page(390, 844)
    sign_in(page, backend)
    page.get_by_role("link", name="学生提问与反馈").click()
    expect(page.locator("#unanswered table")).to_contain_text("奖学金什么时候发")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_failed_question_to_a_new_answer_and_training_data(make_page, tmp_path_factory, browser):
    """§5: a question nobody answered becomes a new answer and a training example written for `make train`."""
    import shutil

    from tests.backend.helpers import ROOT

    tmp = tmp_path_factory.mktemp("staff-train")
    shutil.copytree(ROOT / "data", tmp / "repo" / "data")
    srv = start_backend(f"sqlite:///{tmp}/app.db", tmp, extra_env={"STAFF_TRAINING_DIR": str(tmp / "repo")})
    try:
        page = make_page()
        sign_in(page, srv)
        page.get_by_role("link", name="学生提问与反馈").click()
        page.get_by_role("button", name="把“毕业证什么时候能领”归入回答").first.click()
        expect(page.get_by_role("heading", name="把问题归入回答（作为训练例句）")).to_be_focused()
        expect(page.get_by_label("学生的问题（可改写，去掉个人信息）")).to_have_value("毕业证什么时候能领")
        page.get_by_role("button", name="保存为训练样本").click()
        expect(page.get_by_label("归入哪条回答")).to_be_focused()  # nothing chosen yet
        expect(page.locator("#attach-answer-err")).to_contain_text("请选择")
        page.get_by_label("归入哪条回答").select_option("__new")
        page.get_by_label("新回答的名称（小写英文，如 scholarship_time）").fill("Diploma")
        page.get_by_label("新回答的内容").fill("毕业证书在毕业典礼后由学院统一发放，具体时间请关注学院通知。")
        page.get_by_role("button", name="保存为训练样本").click()
        expect(page.get_by_label("新回答的名称（小写英文，如 scholarship_time）")).to_have_attribute(
            "aria-invalid", "true"
        )
        page.get_by_label("新回答的名称（小写英文，如 scholarship_time）").fill("diploma_time")
        page.get_by_role("button", name="保存为训练样本").click()
        expect(page.locator("#attach-status")).to_contain_text("已保存为“常见问题 · diploma_time”的训练样本")
        expect(page.locator("#examples")).to_contain_text(
            "“毕业证什么时候能领” → 常见问题 · diploma_time（待写入）"
        )
        page.get_by_role("button", name="写入训练数据").click()
        expect(page.locator("#export-status")).to_contain_text("data/nlu/staff_examples.yml")
        expect(page.locator("#examples")).to_contain_text("已写入")
        written = (tmp / "repo" / "data" / "nlu" / "staff_examples.yml").read_text(encoding="utf-8")
        assert "- intent: faq/diploma_time" in written and "    - 毕业证什么时候能领" in written
        assert "utter_faq/diploma_time" in (tmp / "repo" / "bot" / "domain" / "staff_answers.yml").read_text()
        # counselors get no such buttons
        page2 = make_page()
        sign_in(page2, srv, "counselor-physics")
        page2.goto(f"{srv.base}/staff/#questions")
        expect(page2.locator("#questions-scope")).to_be_visible()
        expect(page2.get_by_role("button", name=re.compile("归入回答"))).to_have_count(0)
        expect(page2.get_by_role("button", name="写入训练数据")).to_be_hidden()
    finally:
        stop_backend(srv)
