"""Email: rendering, the SMTP transport and the sender loop that works through queued deliveries.

Consumers never send mail themselves: they queue an ``email_deliveries`` row in their unit of
work (``notifier.use_cases.queue_email``), and :class:`~notifier.mail.sender.MailSender`, run by
the worker, sends it afterwards — so a redelivered event cannot mail twice and a slow SMTP server
never holds up the event queue.
"""
