"""A person in the chat (issue 15 §2): the backend owns handoff sessions and their messages.

States of a session (models.HandoffSession):
- chat:   waiting (in the queue) -> active (a counselor holds it) -> closed (by the counselor, or the student
          says 结束人工/取消排队); waiting -> closed when staff close it without taking it; waiting longer
          than HANDOFF_WAIT_MINUTES -> ticket_open if the student wrote while queued (anonymous or nothing
          written: closed), at the student's next message or by the backend's periodic sweep, whichever comes
          first.
- ticket: ticket_draft (outside office hours; the student's next message, within HANDOFF_DRAFT_MINUTES, is the
          ticket) -> ticket_open (in the staff page's ticket list) -> answered (the answer goes out as a
          notice; a WeChat conversation without a bound student gets it as a customer-service message);
          ticket_draft -> cancelled (取消留言, or no message within HANDOFF_DRAFT_MINUTES: then that message
          goes to the bot).
While a session is waiting, active or ticket_draft its `open_key` is the conversation id (unique): the channel
layer asks `inbound` before handing a message to Rasa. Waiting: the message is stored for the counselor AND
the bot answers it (a queued student is never left with a silent assistant). Active: stored, the bot stays
silent. Ticket draft: the message is the ticket. The state lives in the database, so every Rasa process agrees
and a restart loses nothing.

Scope: a signed-in student's session belongs to the counselors of the student's college (college_code); an
anonymous one (college_code NULL) to the career center (school staff, who see all). Every step is in the audit
log (entity "handoff").

Modules: `common` (texts, office hours, limits, audit, views), `conversation` (the student's side, the
sweep), `staff` (the counselors' side, retention), `delivery` (replies to WeChat, the sweep's thread). The
tables are in backend/models/handoff.py.
"""
