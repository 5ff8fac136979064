"""Session audio archive: ``file:///path`` (a local directory) or ``s3://bucket/prefix`` (boto3).

``open_archive(url, ...)`` picks the backend; everything else talks to the ``Archive`` interface.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from persistence.archive.base import (
    SAMPLE_RATE_HZ,
    Archive,
    ArchivedAudio,
    ArchiveError,
    ArchiveNotFound,
    ArchiveUnavailable,
    ArchiveWriter,
    AudioFormat,
    audio_key,
    upload_key,
)
from persistence.archive.signing import ARCHIVE_PATH, sign_url, verify_signed_url

if TYPE_CHECKING:
    from ayka.settings import Settings

__all__ = [
    "ARCHIVE_PATH",
    "SAMPLE_RATE_HZ",
    "Archive",
    "ArchiveError",
    "ArchiveNotFound",
    "ArchiveUnavailable",
    "ArchiveWriter",
    "ArchivedAudio",
    "AudioFormat",
    "audio_key",
    "open_archive",
    "sign_url",
    "upload_key",
    "verify_signed_url",
]


def open_archive(
    source: str | Settings,
    *,
    s3_endpoint_url: str = "",
    s3_region: str = "us-east-1",
    s3_access_key_id: str = "",
    s3_secret_access_key: str = "",
    signing_secret: str = "",
    public_base_url: str = "",
    part_size_bytes: int = 5 * 1024 * 1024,
) -> Archive:
    """Open the archive named by ``source``: the Settings object (``archive_url``, ``s3_*``,
    ``url_signing_secret``, ``gateway_url``), or a URL ``file:///abs/path`` / ``s3://bucket[/prefix]`` with
    the other values given here. ``signing_secret`` and ``public_base_url`` make the file backend's
    signed download links. Raises ``ArchiveError`` for a URL of another kind."""
    if not isinstance(source, str):
        return open_archive(
            source.archive_url,
            s3_endpoint_url=source.s3_endpoint_url,
            s3_region=source.s3_region,
            s3_access_key_id=source.s3_access_key_id,
            s3_secret_access_key=source.s3_secret_access_key,
            signing_secret=source.url_signing_secret,
            public_base_url=source.gateway_url,
            part_size_bytes=part_size_bytes,
        )
    url = source
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ArchiveError(f"file:// archive URLs name a local path (file:///path), got {url!r}")
        from persistence.archive.local import LocalArchive

        return LocalArchive(Path(unquote(parts.path)), signing_secret, public_base_url)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ArchiveError(f"s3:// archive URLs need a bucket (s3://bucket/prefix), got {url!r}")
        from persistence.archive.s3 import S3Archive, make_client

        client = make_client(s3_endpoint_url, s3_region, s3_access_key_id, s3_secret_access_key)
        return S3Archive(client, parts.netloc, parts.path.strip("/"), part_size_bytes)
    raise ArchiveError(f"archive URL must be file:///path or s3://bucket/prefix, got {url!r}")
