"""Scorer folders on the Hugging Face Hub: resolve a Hub id to a local snapshot, upload a saved folder."""

from __future__ import annotations

import re
from pathlib import Path

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # owner/name; anything else is a local path


class ScorerFolderError(FileNotFoundError):
    """A scorer folder lacks a file or holds an unknown format."""


def resolve_scorer(id_or_path: str | Path, revision: str | None = None) -> Path:
    """A local scorer folder: `id_or_path` when it exists, else (when it reads `owner/name`) that Hub repo downloaded,
    or found in the cache (HF_HUB_OFFLINE=1: the cache only), with huggingface_hub's snapshot_download."""
    path = Path(id_or_path).expanduser()
    text = str(id_or_path)
    if path.exists() or not HUB_ID.match(text):
        if path.exists() and not path.is_dir():
            raise ScorerFolderError(f"scorer {path} is a file; a scorer is a folder (or a Hub id owner/name)")
        return path
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id=text, revision=revision))
    except LocalEntryNotFoundError:
        raise ScorerFolderError(f"scorer {text}: no such local folder, and the Hub repo {text!r} is not in the "
                                "Hugging Face cache (offline, or the Hub cannot be reached)") from None
    except HfHubHTTPError as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ScorerFolderError(f"scorer {text}: no such local folder, and the Hub says: {first}") from None


def upload_scorer(folder: Path, repo_id: str, private: bool | None = None, token: str | None = None,
                  revision: str | None = None, commit_message: str = "Upload zoo scorer") -> str:
    """Create the Hub model repo if needed and upload a saved scorer folder to it; the commit's URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), revision=revision,
                             commit_message=commit_message)
    return str(getattr(info, "commit_url", info))
