"""Direct messages, conversations and blocking, with limits against abuse.

A conversation is the messages between two users (``Message.pair``); each side keeps its own view
(:class:`ConversationState`): read up to a message, cleared up to a message (deleting a
conversation deletes it for that side only).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Forbidden, Invalid, TooLarge, TooManyRequests
from social import events
from social.models import Block, ConversationState, Message, User
from social.use_cases.common import live_user, me

HOUR = timedelta(hours=1)


def pair(a: str, b: str) -> str:
    return ":".join(sorted((a, b)))


def state(session, user_id: str, other_id: str) -> ConversationState:
    row = session.get(ConversationState, (user_id, other_id), with_for_update=True)
    if row is None:
        row = ConversationState(user_id=user_id, other_id=other_id, read_through=0, cleared_through=0)
        session.add(row)
    return row


def _retry_after(session, query, now) -> str:
    oldest = session.scalar(query)
    wait = (oldest + HOUR - now).total_seconds() if oldest is not None else HOUR.total_seconds()
    return str(max(1, int(wait) + 1))


def send(uow: UnitOfWork, principal: Principal, to: str, subject: str | None, body: str, *,
         new_conversations_per_hour: int, messages_per_hour: int, max_chars: int) -> Message:
    if len(body) > max_chars:
        raise TooLarge(f"A message may hold at most {max_chars} characters")
    session = uow.session
    sender = me(session, principal)
    recipient = live_user(session, to)
    if recipient.id == sender.id:
        raise Invalid("You cannot send a message to yourself")
    if session.get(Block, (recipient.id, sender.id)) is not None:
        raise Forbidden("You cannot send messages to this user")
    now = uow.clock()
    key = pair(sender.id, recipient.id)
    since = now - HOUR
    sent = sa.select(Message.sent_at).where(Message.sender_id == sender.id, Message.sent_at > since)
    if session.execute(sa.select(sa.func.count()).select_from(sent.subquery())).scalar_one() >= messages_per_hour:
        raise TooManyRequests(f"You may send at most {messages_per_hour} messages an hour; try again later",
                              headers={"Retry-After": _retry_after(session, sa.select(sa.func.min(Message.sent_at))
                                                                   .where(Message.sender_id == sender.id,
                                                                          Message.sent_at > since), now)})
    starts = session.scalar(sa.select(sa.func.count()).select_from(Message).where(Message.pair == key)) == 0
    if starts:
        new = sa.select(sa.func.count()).select_from(Message).where(
            Message.sender_id == sender.id, Message.starts_conversation.is_(True), Message.sent_at > since)
        if session.execute(new).scalar_one() >= new_conversations_per_hour:
            oldest = (sa.select(sa.func.min(Message.sent_at)).where(
                Message.sender_id == sender.id, Message.starts_conversation.is_(True), Message.sent_at > since))
            raise TooManyRequests(
                f"You may start at most {new_conversations_per_hour} new conversations an hour; try again later",
                headers={"Retry-After": _retry_after(session, oldest, now)})
    message = Message(pair=key, sender_id=sender.id, recipient_id=recipient.id, subject=subject, body=body,
                      sent_at=now, starts_conversation=starts)
    session.add(message)
    session.flush()
    mine = state(session, sender.id, recipient.id)
    mine.read_through = max(mine.read_through, message.id)
    uow.publish(events.MESSAGE_SENT, {
        "message_id": message.id, "conversation_with": sender.username, "sender": sender.username,
        "recipient": recipient.username, "subject": subject, "body": body, "sent": now,
    }, subject=recipient.username)
    return message


def _other(uow: UnitOfWork, principal: Principal, username: str) -> tuple[User, User]:
    mine = me(uow.session, principal)
    other = live_user(uow.session, username)
    if other.id == mine.id:
        raise Invalid("A conversation is with somebody else")
    return mine, other


def _last_id(session, mine: User, other: User) -> int:
    return session.scalar(sa.select(sa.func.max(Message.id)).where(Message.pair == pair(mine.id, other.id))) or 0


def mark_read(uow: UnitOfWork, principal: Principal, username: str) -> None:
    mine, other = _other(uow, principal, username)
    row = state(uow.session, mine.id, other.id)
    row.read_through = max(row.read_through, _last_id(uow.session, mine, other))


def delete_conversation(uow: UnitOfWork, principal: Principal, username: str) -> None:
    """Clear the conversation for the caller only; the other side keeps it."""
    mine, other = _other(uow, principal, username)
    row = state(uow.session, mine.id, other.id)
    last = _last_id(uow.session, mine, other)
    row.cleared_through = max(row.cleared_through, last)
    row.read_through = max(row.read_through, last)


def block(uow: UnitOfWork, principal: Principal, username: str) -> None:
    mine = me(uow.session, principal)
    other = live_user(uow.session, username)
    if other.id == mine.id:
        raise Invalid("You cannot block yourself")
    if uow.session.get(Block, (mine.id, other.id)) is None:
        uow.session.add(Block(blocker_id=mine.id, blocked_id=other.id, created_at=uow.clock()))


def unblock(uow: UnitOfWork, principal: Principal, username: str) -> None:
    mine = me(uow.session, principal)
    other = live_user(uow.session, username)
    uow.session.execute(sa.delete(Block).where(Block.blocker_id == mine.id, Block.blocked_id == other.id))
