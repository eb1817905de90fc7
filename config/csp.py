"""The Content-Security-Policy's form-action: our own pages, and the sign-in providers a
form may send the browser to (OpenID Connect's authorization endpoint is on the issuer's
host, or on a host of the same origin as the issuer for the brokers we know)."""

from urllib.parse import urlsplit


def origins(*urls: str) -> list[str]:
    """scheme://host[:port] of each address given (empty ones skipped), without repeats."""
    found: list[str] = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in {"https", "http"} and parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in found:
                found.append(origin)
    return found
