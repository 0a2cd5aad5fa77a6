"""The person's Hub token: read from where the Hub client looks (HF_TOKEN, then what `hf auth login` saved), and
when typed into Studio, checked with the Hub and saved where the client keeps its tokens, so every tool uses it."""

from __future__ import annotations

from studio.core.errors import HubError
from studio.core.hub import errors, reach


def current() -> str | None:
    from huggingface_hub import get_token

    return get_token()


def source() -> str:
    """Where the token in use comes from, in words, or that there is none."""
    import os

    if os.environ.get("HF_TOKEN"):
        return "HF_TOKEN"
    return "the Hub client's login" if current() else "none"


def save(token: str) -> str:
    """Check `token` with the Hub and make it the Hub client's active token; the account's name."""
    import logging

    from huggingface_hub import HfApi, login
    from huggingface_hub.errors import HfHubHTTPError

    token = token.strip()
    if not token:
        raise HubError("The token is empty; paste the token from your Hub settings (Access Tokens).")
    if not reach.reachable():
        raise errors.offline()
    try:
        name = HfApi().whoami(token)["name"]
        previous = logging.getLogger("huggingface_hub").level
        logging.getLogger("huggingface_hub").setLevel(logging.ERROR)  # the client logs the login at INFO
        try:
            login(token=token, add_to_git_credential=False)
        finally:
            logging.getLogger("huggingface_hub").setLevel(previous)
    except HfHubHTTPError as exc:
        if getattr(exc.response, "status_code", None) == 401:
            raise HubError("The Hub refused that token; copy it again from your Hub settings (Access Tokens), "
                           "or make a new one with read access.") from None
        raise errors.explained(exc, "your account") from None
    except ValueError as exc:  # an organization's token
        raise HubError(f"{exc} Make a personal token in your Hub settings (Access Tokens).") from None
    return str(name)
