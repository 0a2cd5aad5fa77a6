"""The Hub client's exceptions, and a dropped network, as sentences a person can act on."""

from __future__ import annotations

import importlib
from typing import Any

from studio.core.errors import HubError

TOKEN_PLACES = "HF_TOKEN, `hf auth login`, or the token box of Studio's Models view"


def http_library() -> Any:
    """The HTTP library the Hub client speaks through (httpx, or httpx2 since huggingface_hub 2.4), for its
    exception types: the client lets them through unchanged."""
    from huggingface_hub.utils import get_session

    return importlib.import_module(type(get_session()).__module__.split(".")[0])


def page(repo_id: str) -> str:
    from huggingface_hub import constants

    return f"{constants.ENDPOINT}/{repo_id}"


def offline() -> HubError:
    from huggingface_hub import constants

    return HubError(f"The Hugging Face Hub ({constants.ENDPOINT}) cannot be reached from here (no network, or "
                    "HF_HUB_OFFLINE is set); searching and downloading need it, and the models already on this "
                    "machine are listed by `studio models list`.")


def explained(exc: BaseException, repo_id: str, revision: str | None = None) -> HubError:
    """`exc`, raised by the Hub client while asking about `repo_id`, as one sentence."""
    from huggingface_hub import errors

    httpx = http_library()

    if isinstance(exc, errors.GatedRepoError):
        status = getattr(exc.response, "status_code", 401)
        if status == 403:
            return HubError(f"{repo_id} is gated and your token has not been given access yet: ask for it on "
                            f"{page(repo_id)}, then try again.")
        return HubError(f"{repo_id} is gated: accept its terms on {page(repo_id)} with your account, then give "
                        f"Studio your token ({TOKEN_PLACES}).")
    if isinstance(exc, errors.RepositoryNotFoundError):
        return HubError(f"There is no model '{repo_id}' on the Hub (or it is private and your token cannot see "
                        "it); check the id, or give a token that may read it.")
    if isinstance(exc, errors.RevisionNotFoundError):
        return HubError(f"{repo_id} has no revision '{revision}'; give a branch, tag or commit that exists "
                        "(main is the usual one).")
    if isinstance(exc, errors.RemoteEntryNotFoundError):
        return HubError(f"A file of {repo_id} listed a moment ago is no longer there; the repository changed "
                        "while you were looking. Open it again.")
    if isinstance(exc, (errors.OfflineModeIsEnabled, httpx.ConnectError, httpx.ConnectTimeout)):
        return offline()
    if isinstance(exc, errors.HfHubHTTPError):
        status = getattr(exc.response, "status_code", "?")
        if status == 401:
            return HubError(f"The Hub refused your token while reading {repo_id} (401); it may have expired: "
                            f"make a new one and give it to Studio ({TOKEN_PLACES}).")
        return HubError(f"The Hub answered {status} while reading {repo_id}; try again in a moment.")
    if isinstance(exc, httpx.HTTPError):
        return HubError(f"The connection to the Hub failed while reading {repo_id} ({type(exc).__name__}); "
                        "check the network and try again.")
    raise exc
