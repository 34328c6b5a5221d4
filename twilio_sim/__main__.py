"""``python -m twilio_sim``: run the simulator as a server.

Example::

    python -m twilio_sim --host 127.0.0.1 --port 8091 \\
        --account-sid AC00000000000000000000000000000000 --auth-token secret

Then point the application's twilio client at http://127.0.0.1:8091 and open that address in a
browser to see what each resident heard and pressed.
"""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from twilio_sim.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m twilio_sim", description="A local Twilio REST API with scripted phones."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument(
        "--account-sid",
        default=os.environ.get("TWILIO_ACCOUNT_SID", "AC" + "0" * 32),
        help="the account served (default: $TWILIO_ACCOUNT_SID or AC000...)",
    )
    parser.add_argument(
        "--auth-token",
        default=os.environ.get("TWILIO_AUTH_TOKEN"),
        help="checked on REST requests and signs webhooks (default: $TWILIO_AUTH_TOKEN)",
    )
    parser.add_argument(
        "--default-behaviour",
        default="answer:1",
        help='what an unscripted phone does, e.g. "answer:1", "no-answer" (default answer:1)',
    )
    parser.add_argument("--default-message-outcome", default="delivered")
    parser.add_argument(
        "--duplicate-callbacks",
        action="store_true",
        help="deliver every status callback twice, as Twilio sometimes does",
    )
    parser.add_argument("--webhook-attempts", type=int, default=3)
    parser.add_argument("--webhook-timeout", type=float, default=15.0)
    parser.add_argument("--max-twiml-fetches", type=int, default=10)
    parser.add_argument(
        "--step-delay",
        type=float,
        default=0.0,
        help="real seconds between call phases, to watch a demo unfold (default 0)",
    )
    parser.add_argument(
        "--voice-url",
        help="where a resident's call to our number goes (numbers not set by PUT /sim/numbers)",
    )
    parser.add_argument(
        "--sms-url",
        help="where a resident's SMS to our number goes (numbers not set by PUT /sim/numbers)",
    )
    parser.add_argument(
        "--recording-seconds",
        type=int,
        default=5,
        help="what a resident says at a <Record> in an outbound call (default 5)",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    if not args.auth_token:
        parser.error("--auth-token (or $TWILIO_AUTH_TOKEN) is required")

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        default_behaviour=args.default_behaviour,
        default_message_outcome=args.default_message_outcome,
        duplicate_callbacks=args.duplicate_callbacks,
        webhook_attempts=args.webhook_attempts,
        webhook_timeout=args.webhook_timeout,
        max_twiml_fetches=args.max_twiml_fetches,
        step_delay=args.step_delay,
        voice_url=args.voice_url,
        sms_url=args.sms_url,
        recording_seconds=args.recording_seconds,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level.lower())


if __name__ == "__main__":
    main()
