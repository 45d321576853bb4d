"""Custom Rasa 3.6 input channels: the authenticated web REST channel and the WeChat Official Account."""
