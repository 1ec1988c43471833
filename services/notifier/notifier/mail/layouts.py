"""Jinja templates of the notification emails: a subject, a text part and an HTML part each.

The context is what the handler queued (``kind``, ``title``, ``body``, ``link``, ``username``
and the kind's own fields) plus ``base`` (``PUBLIC_BASE_URL``) and ``unsubscribe_url``. The HTML
environment escapes every value; the text one does not.
"""

from __future__ import annotations

import html as html_lib
import re
from functools import lru_cache
from typing import Any

import jinja2

_HTML_LAYOUT = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{ page_title }}</title></head>
<body style="font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; color: #1f2328; max-width: 640px;">
<h2 style="font-size: 18px;">{{ page_title }}</h2>
{% block content %}{% endblock %}
<hr style="border: none; border-top: 1px solid #d0d7de; margin-top: 24px;">
<p style="font-size: 12px; color: #57606a;">Packyard &middot;
<a href="{{ base }}/ui/settings/notifications">Notification settings</a>
{% if unsubscribe_url %} &middot; <a href="{{ unsubscribe_url }}">Unsubscribe from these emails</a>{% endif %}</p>
</body></html>
"""

_TEXT_FOOTER = """
--
Packyard. Choose what you hear about: {{ base }}/ui/settings/notifications
{% if unsubscribe_url %}Stop these emails: {{ unsubscribe_url }}
{% endif %}"""

# name -> (subject, text body, html content block)
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "release": (
        "{{ package }} {{ version }} was released",
        """Hello {{ username }},

{{ publisher }} released {{ owner }}/{{ repo }}/{{ package }} {{ version }}.
{% if release_notes %}
Release notes:

{{ release_notes }}
{% endif %}
See it: {{ link }}
Share it: {{ share_url }}
""",
        """<p>Hello {{ username }},</p>
<p>{{ publisher }} released <strong>{{ owner }}/{{ repo }}/{{ package }} {{ version }}</strong>.</p>
{% if release_notes %}<h3 style="font-size: 15px;">Release notes</h3>
<pre style="white-space: pre-wrap; font-family: inherit;">{{ release_notes }}</pre>{% endif %}
<p><a href="{{ link }}">See the release</a> &middot; <a href="{{ share_url }}">Share it</a></p>""",
    ),
    "message": (
        "{{ title }}",
        """Hello {{ username }},

{{ sender }} sent you a message{% if subject %} "{{ subject }}"{% endif %}:

{{ message }}

Answer in the conversation: {{ link }}
""",
        """<p>Hello {{ username }},</p>
<p>{{ sender }} sent you a message{% if subject %} &ldquo;{{ subject }}&rdquo;{% endif %}:</p>
<blockquote style="border-left: 3px solid #d0d7de; padding-left: 12px; white-space: pre-wrap;">
{{- message -}}
</blockquote>
<p><a href="{{ link }}">Answer in the conversation</a></p>""",
    ),
    "news": (
        "{{ subject }}",
        """Hello {{ username }},

{{ news }}
""",
        """<p>Hello {{ username }},</p>
<div style="white-space: pre-wrap;">{{ news }}</div>""",
    ),
    "digest": (
        "Your {{ mode }} Packyard digest: {{ items|length }} new "
        "{{ 'notification' if items|length == 1 else 'notifications' }}",
        """Hello {{ username }},

here is what happened since your last digest:
{% for item in items %}
- {{ item.title }}{% if item.link %}
  {{ item.link }}{% endif %}
{% endfor %}
""",
        """<p>Hello {{ username }},</p>
<p>Here is what happened since your last digest:</p>
<ul>{% for item in items %}
<li>{% if item.link %}<a href="{{ item.link }}">{{ item.title }}</a>{% else %}{{ item.title }}{% endif %}</li>
{%- endfor %}
</ul>""",
    ),
    "notice": (
        "{{ title }}",
        """Hello {{ username }},

{{ title }}.
{% if body and body != title %}
{{ body }}
{% endif %}{% if detail and detail != body %}
{{ detail }}
{% endif %}{% if link %}
{{ link }}
{% endif %}""",
        """<p>Hello {{ username }},</p>
<p><strong>{{ title }}</strong>.</p>
{% if body and body != title %}<p style="white-space: pre-wrap;">{{ body }}</p>{% endif %}
{% if link %}<p><a href="{{ link }}">Open in Packyard</a></p>{% endif %}""",
    ),
}

# Kinds without a template of their own use the generic notice.
for _kind in ("review", "comment", "review_reply", "follower", "claim", "inclusion", "webhook_deactivated",
              "signing_failed", "key_expiring"):
    TEMPLATES[_kind] = TEMPLATES["notice"]


@lru_cache(maxsize=1)
def _environments() -> tuple[jinja2.Environment, jinja2.Environment]:
    text = jinja2.Environment(autoescape=False, undefined=jinja2.ChainableUndefined, keep_trailing_newline=True)
    markup = jinja2.Environment(autoescape=True, undefined=jinja2.ChainableUndefined)
    return text, markup


@lru_cache(maxsize=64)
def _compiled(name: str) -> tuple[jinja2.Template, jinja2.Template, jinja2.Template]:
    subject, text, content = TEMPLATES[name]
    text_env, html_env = _environments()
    page = _HTML_LAYOUT.replace("{% block content %}{% endblock %}", content)
    return text_env.from_string(subject), text_env.from_string(text + _TEXT_FOOTER), html_env.from_string(page)


def render(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """``(subject, text, html)`` of template ``name``."""
    subject_t, text_t, html_t = _compiled(name)
    subject = " ".join(subject_t.render(**context).split())[:250]
    return subject, text_t.render(**context), html_t.render(**{**context, "page_title": subject})


_URL = re.compile(r"https?://[^\s<>\"']+")


def text_as_html(subject: str, text: str) -> str:
    """An account email's text laid out as HTML: escaped paragraphs, links made clickable."""
    paragraphs = []
    for block in text.strip().split("\n\n"):
        escaped = html_lib.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append(f"<p>{linked.replace(chr(10), '<br>')}</p>")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_lib.escape(subject) +
            "</title></head>\n<body style=\"font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif;\">\n"
            + "\n".join(paragraphs) + "\n</body></html>\n")
