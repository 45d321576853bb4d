"""Helpers of the end-to-end tests: what a student reads of the bot's messages, and dates as the bot says
them."""


def text_of(messages) -> str:
    parts = []
    for m in messages:
        parts.append(m.get("text") or "")
        parts += [b.get("title", "") for b in m.get("buttons") or []]
    return "\n".join(parts)


def cn(d: str) -> str:
    y, m, dd = (int(x) for x in d.split("-"))
    return f"{y}年{m}月{dd}日"
