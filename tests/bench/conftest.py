"""Fixtures of the bench tests: a small project of its own (NLU, domain, rules) and the retrieval baseline
serving it over real HTTP."""

import subprocess
import sys
import time
import urllib.request

import pytest

from system import ROOT, free_port

NLU = """
version: "3.1"
nlu:
- intent: greet
  examples: |
    - 你好
    - 老师好
- intent: ask_status
  examples: |
    - 我的审核进度到哪了
    - [毕业去向](record)审核通过了吗
- intent: faq/lost_form
  examples: |
    - 推荐表丢了能补吗
    - 推荐表遗失了怎么办
- intent: faq/mail_receiver
  examples: |
    - 档案能寄给我妈妈收吗
    - 档案收件人可以是家属吗
- regex: phone
  examples: |
    - 1[3-9]\\d{9}
"""
DOMAIN = """
version: "3.1"
responses:
  utter_greet:
  - text: 你好，我是毕业手续助手。
  utter_faq/lost_form:
  - text: 推荐表遗失补办：在手续办理中申请。
  utter_faq/mail_receiver:
  - condition:
    - type: slot
      name: x
      value: y
    text: 条件回复
  - text: 收件人不能是本人或家属。
    buttons:
    - title: 查看邮寄要求
      payload: /faq
  utter_default:
  - text: 抱歉，我不太明白。
"""
RULES = """
version: "3.1"
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: status
  steps:
  - intent: ask_status
  - action: action_show_status
- rule: faq
  steps:
  - intent: faq
  - action: utter_faq
"""


@pytest.fixture()
def project(tmp_path):
    for rel, text in (
        ("data/nlu/main.yml", NLU),
        ("bot/domain/main.yml", DOMAIN),
        ("data/rules/main.yml", RULES),
    ):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.fixture()
def baseline_url(project):
    """The baseline serving `project` over real HTTP on a free loopback port (its base URL)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.baseline", "--root", str(project), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
