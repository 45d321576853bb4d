"""The demo job-site page and the chat widget in a real headless Chromium (issue 4 points 1-4)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]
OUT = Path(__file__).resolve().parent / "output"


def open_widget(page, url):
    page.goto(url)
    page.get_by_role("button", name="打开智能咨询").click()
    expect(page.get_by_role("dialog", name="智能咨询对话")).to_be_visible()
    return page.get_by_role("textbox", name=re.compile("输入您的问题"))


def bot_msgs(page):
    return page.locator(".zz-log .zz-bot")


def ask(page, box, text):
    box.fill(text)
    box.press("Enter")


def test_open_page_ask_and_click_quick_reply(page, site):
    url, _ = site
    box = open_widget(page, url)
    expect(page.get_by_role("heading", name="智能咨询")).to_be_visible()
    expect(bot_msgs(page).first).to_contain_text("智能咨询")
    ask(page, box, "你好")
    expect(page.locator(".zz-log .zz-user").last).to_have_text(re.compile("你好"))
    expect(bot_msgs(page).last).to_contain_text("我是测试助手")
    expect(box).to_have_value("")
    page.get_by_role("button", name="我是谁").click()
    expect(bot_msgs(page).last).to_contain_text("会话=anon:web-")
    expect(page.get_by_role("button", name="我是谁")).to_have_count(0)  # old quick replies are gone


def test_links_are_clickable_and_bot_html_is_not_interpreted(page, site):
    url, _ = site
    box = open_widget(page, url)
    ask(page, box, "链接")
    last = bot_msgs(page).last
    expect(last).to_contain_text('<img src=x onerror="window.__xss=1">')
    link = last.get_by_role("link", name="https://job.bit.edu.cn/guide?a=1&b=2")
    expect(link).to_have_attribute("href", "https://job.bit.edu.cn/guide?a=1&b=2")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    assert page.locator(".zz-log img").count() == 0
    assert page.evaluate("window.__xss") is None
    ask(page, box, "<b>粗体</b><script>window.__xss=2</script>")
    expect(page.locator(".zz-log .zz-user").last).to_contain_text("<b>粗体</b>")
    assert page.locator(".zz-log b, .zz-log script").count() == 0
    assert page.evaluate("window.__xss") is None


def test_sign_in_status_token_and_wechat_bind_code(page, site):
    url, stack = site
    page.goto(url)
    page.get_by_label("学号").select_option("2025000005")
    page.get_by_role("button", name=re.compile("登录")).click()
    expect(page.locator("#who")).to_contain_text("2025000005")
    page.get_by_role("button", name="获取微信绑定码").click()
    expect(page.locator("#bind-result")).to_contain_text(
        re.compile(r"绑定码：[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
    )
    page.locator("#consult-btn").click()
    box = page.get_by_role("textbox", name=re.compile("输入您的问题"))
    ask(page, box, "whoami")
    expect(bot_msgs(page).last).to_contain_text("会话=student:2025000005")
    expect(bot_msgs(page).last).to_contain_text("令牌=有")
    # signing out: anonymous again, the student's history is not shown
    page.get_by_role("button", name="退出").click()
    expect(page.locator("#login-form")).to_be_visible()
    ask(page, box, "whoami")
    expect(bot_msgs(page).last).to_contain_text("会话=anon:")


def test_history_survives_reload(page, site):
    url, _ = site
    box = open_widget(page, url)
    ask(page, box, "remember 重载之前的问题")
    expect(bot_msgs(page).last).to_contain_text("已记住")
    page.reload()
    expect(page.get_by_role("dialog", name="智能咨询对话")).to_be_visible()  # stays open
    expect(page.locator(".zz-log .zz-user").last).to_contain_text("remember 重载之前的问题")
    expect(bot_msgs(page).last).to_contain_text("已记住")
    ask(page, page.get_by_role("textbox", name=re.compile("输入您的问题")), "recall")
    expect(bot_msgs(page).last).to_contain_text("重载之前的问题")  # same conversation on the server too


def test_enter_during_ime_composition_does_not_send(page, site):
    url, _ = site
    box = open_widget(page, url)
    before = page.locator(".zz-log .zz-user").count()
    box.fill("ni")
    box.evaluate("""el => {
        el.dispatchEvent(new CompositionEvent('compositionstart', {bubbles: true, data: ''}));
        el.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: 229, isComposing: true,
                                                      bubbles: true, cancelable: true}));
        el.dispatchEvent(new CompositionEvent('compositionend', {bubbles: true, data: '你'}));
        el.value = '你好';
        // some IMEs report keyCode 229 without isComposing
        el.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: 229, bubbles: true, cancelable: true}));
    }""")  # noqa: E501 (a line of the page script)
    page.wait_for_timeout(300)
    assert page.locator(".zz-log .zz-user").count() == before
    expect(box).to_have_value("你好")
    box.press("Enter")  # a real Enter after composing sends
    expect(page.locator(".zz-log .zz-user").last).to_have_text(re.compile("你好"))
    expect(bot_msgs(page).last).to_contain_text("我是测试助手")


def test_shift_enter_makes_a_new_line(page, site):
    url, _ = site
    box = open_widget(page, url)
    box.fill("第一行")
    box.press("Shift+Enter")
    assert page.locator(".zz-log .zz-user").count() == 0
    assert "\n" in box.input_value()


def test_assistant_down_shows_a_message_and_keeps_the_text(page, site):
    url, _ = site
    box = open_widget(page, url)
    page.route("**/webhooks/rest/webhook", lambda route: route.abort("connectionrefused"))
    ask(page, box, "我的问题还在吗")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("暂时无法连接")
    expect(box).to_have_value("我的问题还在吗")
    expect(page.locator(".zz-log .zz-user")).to_have_count(0)
    page.unroute("**/webhooks/rest/webhook")
    box.press("Enter")
    expect(bot_msgs(page).last).to_contain_text("抱歉")  # the tiny bot's fallback: it got through
    expect(alert).to_be_hidden()


def test_keyboard_only_and_aria(page, site):
    url, _ = site
    page.goto(url)
    launcher = page.get_by_role("button", name="打开智能咨询")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.focus()
    page.keyboard.press("Enter")
    box = page.get_by_role("textbox", name=re.compile("输入您的问题"))
    expect(box).to_be_focused()
    expect(page.get_by_role("log")).to_be_visible()
    page.keyboard.type("你好")
    page.keyboard.press("Enter")
    expect(bot_msgs(page).last).to_contain_text("我是测试助手")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="智能咨询对话")).to_be_hidden()
    expect(launcher).to_be_focused()


@pytest.mark.parametrize("name,viewport", [("desktop", (1280, 800)), ("phone", (375, 740))])
def test_layout_and_screenshots(browser, site, name, viewport):
    url, _ = site
    ctx = browser.new_context(
        locale="zh-CN",
        viewport={"width": viewport[0], "height": viewport[1]},
        is_mobile=name == "phone",
        has_touch=name == "phone",
    )
    page = ctx.new_page()
    try:
        page.goto(url)
        OUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUT / f"home-{name}.png"))
        box = open_widget(page, url)
        ask(page, box, "你好")
        expect(bot_msgs(page).last).to_contain_text("我是测试助手")
        panel = page.get_by_role("dialog", name="智能咨询对话").bounding_box()
        if name == "phone":
            assert panel["width"] == pytest.approx(viewport[0], abs=1)
            assert panel["height"] == pytest.approx(viewport[1], abs=1)
        else:
            assert panel["width"] < 500 and panel["x"] + panel["width"] <= viewport[0]
        send = page.get_by_role("button", name="发送").bounding_box()
        assert send["x"] + send["width"] <= viewport[0] and send["y"] + send["height"] <= viewport[1]
        page.screenshot(path=str(OUT / f"chat-{name}.png"))
    finally:
        ctx.close()


def test_demo_page_served_by_the_back_end_finds_rasa_on_its_port(page, site):
    """No rewritten copy: the back end fills the widget's Rasa port from RASA_PORT (a free port here, not
    5005)."""
    _, stack = site
    assert not stack.rasa_url.endswith(":5005")
    box = open_widget(page, stack.backend_url + "/")
    ask(page, box, "你好")
    expect(bot_msgs(page).last).to_contain_text("我是测试助手")
