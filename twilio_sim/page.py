"""``GET /``: a page for the person running the system — what each resident heard and pressed."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from twilio_sim.state import SimCall, SimMessage

_STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } code { font-size: .8rem; }
.completed, .delivered, .received { color: #176117; } .busy, .no-answer, .failed, .undelivered,
.canceled { color: #a11; } .queued, .ringing, .in-progress, .sent, .accepted { color: #946200; }
.lang { color: #777; font-size: .75rem; } .err { color: #a11; font-size: .8rem; }
.empty { color: #777; } .dir { color: #555; font-size: .8rem; }
"""


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _heard(call: SimCall) -> str:
    if not call.heard:
        return '<span class="empty">nothing</span>'
    items = []
    for h in call.heard:
        lang = f' <span class="lang">[{escape(h.language)}]</span>' if h.language else ""
        text = escape(h.text) if h.verb == "Say" else f"♪ {escape(h.text)}"
        items.append(f"<div>“{text}”{lang}</div>")
    return "".join(items)


def _direction(direction: str, from_: str | None, to: str) -> str:
    """Who called or texted whom: inbound traffic is a resident reaching our number."""
    arrow = "⇠ inbound" if direction == "inbound" else f"⇢ {direction}"
    return f'<span class="dir">{escape(arrow)}</span><br>{escape(from_ or "")} → {escape(to)}'


def _call_row(call: SimCall) -> str:
    pressed = escape(", ".join(call.pressed)) if call.pressed else '<span class="empty">—</span>'
    if call.hung_up_by_resident:
        pressed += ' <span class="empty">(hung up)</span>'
    problems = "".join(f'<div class="err">{escape(str(e["message"]))}</div>' for e in call.errors)
    dialed = "".join(
        f"<div>☎ dialed {escape(str(d['number']))}: {escape(str(d['status']))}</div>"
        for d in call.dialed
    )
    recorded = "".join(
        f"<div>● recording <code>{escape(sid)}</code></div>" for sid in call.recording_sids
    )
    answered = escape(call.answered_by or "")
    return (
        f"<tr><td><code>{escape(call.sid)}</code><br>{_when(call.date_created)}</td>"
        f"<td>{_direction(call.direction, call.from_, call.to)}</td>"
        f"<td>{escape(call.behaviour.source)}</td>"
        f'<td class="{escape(call.status)}">{escape(call.status)}'
        f"{f'<br>{answered}' if answered else ''}</td>"
        f"<td>{_heard(call)}{dialed}{recorded}{problems}</td><td>{pressed}</td>"
        f"<td>{len(call.webhooks)}</td></tr>"
    )


def _message_row(message: SimMessage) -> str:
    code = f" ({message.error_code})" if message.error_code else ""
    return (
        f"<tr><td><code>{escape(message.sid)}</code></td>"
        f"<td>{_direction(message.direction, message.from_, message.to)}</td>"
        f"<td>{escape(message.body)}</td>"
        f'<td class="{escape(message.status)}">{escape(message.status)}{code}</td>'
        f"<td>{len(message.webhooks)}</td></tr>"
    )


def render_page(calls: list[SimCall], messages: list[SimMessage], account_sid: str) -> str:
    """The newest calls and messages first; the page reloads itself every 5 seconds."""
    call_rows = "".join(_call_row(c) for c in reversed(calls)) or (
        '<tr><td colspan="7" class="empty">No calls yet.</td></tr>'
    )
    message_rows = "".join(_message_row(m) for m in reversed(messages)) or (
        '<tr><td colspan="5" class="empty">No messages yet.</td></tr>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Twilio simulator</title><style>{_STYLE}</style></head>
<body>
<h1>Twilio simulator <small class="empty">account {escape(account_sid)}</small></h1>
<p class="empty">What each resident's phone heard and pressed.
JSON: <a href="/sim/calls">/sim/calls</a>, <a href="/sim/messages">/sim/messages</a>,
<a href="/sim/recordings">/sim/recordings</a>, numbers: <a href="/sim/numbers">/sim/numbers</a>,
scripts: <a href="/sim/scripts">/sim/scripts</a>.</p>
<h2>Calls</h2>
<table><thead><tr><th>Call</th><th>Direction</th><th>Script</th><th>Status</th><th>Heard</th>
<th>Pressed</th><th>Webhooks</th></tr></thead><tbody>{call_rows}</tbody></table>
<h2>Messages</h2>
<table><thead><tr><th>Message</th><th>Direction</th><th>Body</th><th>Status</th><th>Webhooks</th></tr>
</thead><tbody>{message_rows}</tbody></table>
</body></html>
"""
