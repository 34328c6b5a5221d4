"""Twilio's REST error shape: ``{"code", "message", "more_info", "status"}``.

The codes below are the ones Twilio's own API returns for these situations. ``20001`` is used
for a parameter value the simulator refuses where Twilio's exact code for that parameter is not
known; the twilio SDK surfaces either way as a ``TwilioRestException`` with ``.code``.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse

AUTHENTICATE = 20003  # bad or missing credentials (HTTP 401)
METHOD_NOT_ALLOWED = 20004  # HTTP 405
NOT_FOUND = 20404  # unknown resource (HTTP 404)
INVALID_PARAMETER = 20001  # the simulator's catch-all for a refused parameter value
CALL_NO_TO = 21201  # "No 'To' number is specified"
CALL_URL_REQUIRED = 21205  # "Url parameter is required." / "Url is not a valid URL: ..."
INVALID_TO = 21211  # "Invalid 'To' Phone Number"
INVALID_FROM = 21212  # "Invalid 'From' Phone Number"
CALL_NO_FROM = 21213  # "No 'From' number is specified"
CALL_NOT_IN_PROGRESS = 21220  # "Call is not in-progress. Cannot redirect."
MESSAGE_NO_BODY = 21602  # "Message body is required."
MESSAGE_NO_FROM = 21603  # "A 'From' phone number is required."
MESSAGE_NO_TO = 21604  # "A 'To' phone number is required."
MESSAGE_BAD_STATUS_CALLBACK = 21609  # "Invalid 'StatusCallback'"
INTERNAL = 20500  # "Internal Server Error" (HTTP 500): Twilio's side failed


class TwilioApiError(Exception):
    """An error the simulated REST API answers with, in Twilio's JSON shape."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }

    def response(self) -> JSONResponse:
        headers = {}
        if self.status == 401:
            # What a browser or curl needs to prompt for the account's credentials.
            headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return JSONResponse(self.to_json(), status_code=self.status, headers=headers)


def bad_request(code: int, message: str) -> TwilioApiError:
    return TwilioApiError(400, code, message)


def not_found(path: str) -> TwilioApiError:
    return TwilioApiError(404, NOT_FOUND, f"The requested resource {path} was not found")


def unauthorized() -> TwilioApiError:
    return TwilioApiError(401, AUTHENTICATE, "Authenticate")
