"""The HTTP edge: how errors look on the wire, and the headers every response carries."""
from __future__ import annotations

from chalice import Response

from chalicelib import payloads
from chalicelib.errors import ServiceError

# On every response, the app's and API Gateway's own: nothing is cached (bodies may carry a
# token), and browsers never guess a type other than the declared one.
SECURITY_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

# Chalice answers some requests itself (unknown method, wrong media type, a bug in a view)
# with {"Code", "Message"}; these are restyled to the API's own error shape.
_CHALICE_ERROR_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    415: "unsupported_media_type",
    500: "internal_error",
}


def error_response(error: ServiceError) -> Response:
    """The response for a domain error: its status, JSON body and headers."""
    return Response(
        body=payloads.error(error.code, error.message),
        status_code=error.status,
        headers=error.headers(),
    )


def in_house_style(response: Response) -> Response:
    """Chalice's own error bodies rewritten as ``{"error": {"code", "message"}}``, and the
    security headers added."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = _CHALICE_ERROR_CODES.get(response.status_code, "error")
        response.body = payloads.error(code, str(body.get("Message", "")))
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
