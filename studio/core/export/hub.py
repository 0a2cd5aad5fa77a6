"""Pushing an exported model folder to the Hugging Face Hub: a repository (private unless asked otherwise)
made if it is new, and the folder's files in one commit. The token is the Hub client's own: HF_TOKEN, or
the one `hf auth login` saved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from studio.core.errors import ConfigError, HubError
from studio.core.hub import reach

Progress = Callable[[str, float | None], None]


def check_repo_id(repo_id: str) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise ConfigError(f"'{repo_id}' is not a Hub repository id; give one as NAMESPACE/NAME, such as "
                          "your-name/my-model.") from None
    if "/" not in repo_id:
        raise ConfigError(f"'{repo_id}' has no namespace; give the repository as NAMESPACE/NAME, such as "
                          f"your-name/{repo_id}.")


def check_reachable() -> None:
    from huggingface_hub import constants

    if not reach.reachable():
        raise HubError(f"The Hugging Face Hub ({constants.ENDPOINT}) cannot be reached from here (no network, or "
                       "HF_HUB_OFFLINE is set); export with --format hf now and push the folder later.")


def push(folder: Path, repo_id: str, *, private: bool = True, progress: Progress | None = None) -> str:
    """Upload `folder` to `repo_id`; the repository's address."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    check_reachable()
    api = HfApi()
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    try:
        if progress is not None:
            progress(f"Creating {repo_id} on the Hub ({'private' if private else 'public'})…", 0.0)
        url = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        if progress is not None:
            progress(f"Uploading {size / 2**20:,.1f} MB to {repo_id}…", None)
        api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                          commit_message="Upload from Transformer Studio")
    except HfHubHTTPError as exc:
        status = getattr(exc.response, "status_code", None)
        if status in (401, 403):
            raise HubError(f"The Hub refused the upload to {repo_id} ({status}): set HF_TOKEN to a token that may "
                           "write there, or log in with 'hf auth login'.") from None
        raise HubError(f"The Hub did not take the upload to {repo_id} ({status or 'no answer'}: "
                       f"{str(exc).splitlines()[0][:200]}).") from None
    except OSError as exc:
        raise HubError(f"The upload to {repo_id} broke off ({exc}); push again when the network is back.") from None
    if progress is not None:
        progress(f"Pushed to {url}.", 1.0)
    return str(url)
