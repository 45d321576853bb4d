"""Notices when a student's case moves (issue 15 §1), and their delivery to WeChat.

- One notice per (student, event key): a database unique constraint, so two processes (or a retried request)
  writing the same event leave one row. Notices caused by a state change (review decision, national
  confirmation, archive shipped/delivered) are written in the same transaction as the change (`add`).
- Events the calendar causes (synced to the national platform, the day mailing becomes possible) are found by
  `sweep`, run by the worker every NOTICE_SWEEP_SECONDS (60); their keys carry the date, so each is noticed
  once.
- Deadline reminders: staff set a date and an audience; the students it concerns get a notice at once and,
  3 days before the date, a reminder if it still concerns them.
- The widget shows unread notices first at the next visit and marks them read (routers/notices.py).
- Delivery to WeChat (bound students who did not turn WeChat notices off): a worker loop claims each notice
  atomically with a lease (one conditional UPDATE: unclaimed and due, or claimed longer ago than
  NOTICE_LEASE_SECONDS), so several workers never send one twice and a worker that died between claim and send
  leaves nothing behind: its notice goes out once after the lease (`Worker`, on the shared outbox
  services/wechat/outbox.py). Transient failures (WeChat unreachable, quota, system busy) are retried with
  back-off; permanent ones (unsubscribed 43004, invalid openid, ...) are recorded as failed. Inside the
  48-hour window after the student's last message to the account: a customer-service message; outside it, or
  when WeChat says the window closed (45015, 45047), a template message with WECHAT_NOTICE_TEMPLATE_ID (none
  set: WeChat is skipped, the widget still has it). The loop runs as a thread in each backend process
  (NOTICE_WORKER=0 turns it off) or as `python -m backend.services.notices`.

Modules: `schedule` (the calendar's events and the deadlines staff set), `inbox` (what the student sees, the
WeChat setting), `delivery` (the WeChat worker and `main`). Writing a notice, and the notices a change of
state writes, is `services/notice_events.py`, one floor down (the services that change a case import it).
The tables are in backend/models/notices.py.
"""
