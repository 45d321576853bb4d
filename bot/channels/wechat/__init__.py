"""WeChat Official Account channel (bot/credentials.yml: `bot.channels.wechat.WeChatInput`), in wechatpy's
layers:

- protocol.py: signatures, replay window, message parsing, reply XML (wechatpy's crypto and parser);
- api.py: the WeChat HTTP API, access token and customer-service messages (wechatpy's client layer, async);
- backend.py: the backend's WeChat integration endpoints (binding, the bound student's token, notices);
- commands.py: what users type besides questions (binding codes, 解绑, 关闭/开启通知) and the fixed texts;
- delivery.py: the 5-second rule and WeChat's retries (one answer per message, passive or customer-service);
- channel.py: the Rasa input channel tying them together.
"""

from bot.channels.wechat.channel import WeChatInput

__all__ = ["WeChatInput"]
