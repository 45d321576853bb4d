"""Custom Rasa 3.6 input channels: the authenticated web REST channel and the WeChat Official Account.

Importing them changes nothing in Rasa: the start-up patches are applied by `bot.startup.apply_rasa_patches()`
(deploy/rasa_run.py, or the channels' `from_credentials` under a plain `rasa run`)."""
