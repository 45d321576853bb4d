"""`make chat`: talk to the running assistant from a terminal.

Usage: make chat [STUDENT=2025000005]   (STUDENT signs in through the demo login first)
"""

import os
import sys
import uuid

from system import dev_login, say


def main() -> int:
    rasa = os.environ.get("RASA_URL", f"http://127.0.0.1:{os.environ.get('RASA_PORT', 5005)}")
    backend = os.environ.get("BACKEND_URL", f"http://127.0.0.1:{os.environ.get('BACKEND_PORT', 8000)}")
    student = os.environ.get("STUDENT", "")
    token = dev_login(backend, student) if student else None
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    print(f"智能咨询 ({'已登录 ' + student if token else '未登录'})；输入 /quit 退出。")
    while True:
        try:
            text = input("你> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if text in {"/quit", "/exit"}:
            return 0
        if not text:
            continue
        try:
            for m in say(f"{rasa}/webhooks/rest/webhook", sender, text, token):
                if m.get("text"):
                    print("助手>", m["text"])
                for b in m.get("buttons") or []:
                    print(f"   [{b.get('title')}]")
        except Exception as e:  # noqa: BLE001 - a terminal client reports and goes on
            print(f"(助手暂时无法连接：{e})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
