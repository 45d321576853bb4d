"""WeChat on the backend's side, in one package:

- `client`: the one HTTP client of the official account (access token cache, customer-service and template
  messages, WeChat's error codes by name, the 48-hour window);
- `outbox`: rows delivered to WeChat by workers with a lease per row (notices, counselors' replies);
- `codes`: binding a WeChat user to a student (binding codes, failed guesses, the binding).
"""
