"""The portfolio bucket behind a small interface."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

from botocore.exceptions import ClientError

from chalicelib.config import get_settings
from chalicelib.errors import NotFound, Replaced
from chalicelib.store import aws
from chalicelib.store.errors import translated

# S3 takes parts of 5 MiB or more (but the last); larger parts mean fewer requests.
UPLOAD_PART_BYTES: Final = 8 * 1024 * 1024


# What a HeadObject answers for a key that is gone or no longer has the asked ETag.
_GONE_OR_REPLACED = frozenset({"404", "NoSuchKey", "412", "PreconditionFailed"})


def _quoted(etag: str) -> str:
    """An ETag as If-Match takes it (S3's notifications give it without quotes)."""
    return etag if etag.startswith('"') else f'"{etag}"'


@dataclass(frozen=True, slots=True)
class Prefix:
    """The first `length` bytes of the object `key`."""

    key: str
    length: int


class Blobs:
    def __init__(self, bucket: str | None = None) -> None:
        self.bucket = bucket or get_settings().bucket_name

    def open(
        self,
        key: str,
        *,
        start: int = 0,
        length: int | None = None,
        version_id: str | None = None,
        etag: str | None = None,
    ) -> BinaryIO:
        """A streaming body of the object from byte `start` (never read whole into memory), of
        at most `length` bytes: of its version `version_id`, or else only while its content is
        still `etag` (a new upload under the same key raises `Replaced`), so that a read resumed
        later never continues in another file."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        elif etag:
            params["IfMatch"] = _quoted(etag)
        if start or length:
            params["Range"] = f"bytes={start}-{'' if length is None else start + length - 1}"
        try:
            with translated("get_object"):
                response = aws.client("s3").get_object(**params)
        except Exception as exc:
            if start and "InvalidRange" in str(exc):
                # Resuming exactly at the end of the object: nothing is left to read.
                return io.BytesIO(b"")
            if "NoSuchKey" in str(exc) or "NoSuchVersion" in str(exc):
                raise NotFound(f"object {key} not found") from exc
            if "PreconditionFailed" in str(exc):
                raise Replaced(f"object {key} was replaced") from exc
            raise
        body: BinaryIO = response["Body"]
        return body

    def put_json(self, key: str, document: Any) -> None:
        payload = json.dumps(document, ensure_ascii=False, indent=2, default=str).encode()
        with translated("put_object"):
            aws.client("s3").put_object(
                Bucket=self.bucket, Key=key, Body=payload, ContentType="application/json"
            )

    def put_bytes(
        self, key: str, data: bytes | BinaryIO, *, content_type: str = "application/octet-stream"
    ) -> None:
        with translated("put_object"):
            aws.client("s3").put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )

    def concatenate(
        self,
        key: str,
        head: bytes | Prefix,
        parts: Sequence[str],
        *,
        content_type: str,
        missing: list[str] | None = None,
    ) -> int:
        """Write `head` (bytes, or the first bytes of an object, which may be `key` itself)
        followed by the objects `parts`, in order, as the object `key`: one PutObject when it
        stays small, else a multipart upload of parts of at least `UPLOAD_PART_BYTES`; never
        more than one such part in memory. Returns its size in bytes. A part that is not found
        raises `NotFound`, or, given a `missing` list, is left out and added to it."""
        s3 = aws.client("s3")
        pending = bytearray()
        written = 0
        upload_id: str | None = None
        uploaded: list[dict[str, Any]] = []

        def upload_pending() -> None:
            number = len(uploaded) + 1
            with translated("upload_part"):
                answer = s3.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=bytes(pending),
                )
            uploaded.append({"PartNumber": number, "ETag": answer["ETag"]})
            pending.clear()

        try:
            for data in self._pieces(head, parts, missing):
                pending += data
                written += len(data)
                if len(pending) < UPLOAD_PART_BYTES:
                    continue
                if upload_id is None:
                    with translated("create_multipart_upload"):
                        upload_id = s3.create_multipart_upload(
                            Bucket=self.bucket, Key=key, ContentType=content_type
                        )["UploadId"]
                upload_pending()
            if upload_id is None:
                self.put_bytes(key, bytes(pending), content_type=content_type)
                return written
            if pending:
                upload_pending()
            with translated("complete_multipart_upload"):
                s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": uploaded},
                )
            return written
        except Exception:
            if upload_id is not None:
                # If this fails too, the bucket's lifecycle aborts the upload after a week.
                with contextlib.suppress(Exception):
                    s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    def _pieces(
        self, head: bytes | Prefix, parts: Sequence[str], missing: list[str] | None
    ) -> Iterator[bytes]:
        if isinstance(head, bytes):
            yield head
        else:
            for start in range(0, head.length, UPLOAD_PART_BYTES):
                length = min(UPLOAD_PART_BYTES, head.length - start)
                yield self.get_bytes(head.key, start=start, length=length)
        for part in parts:
            try:
                yield self.get_bytes(part)
            except NotFound:
                if missing is None:
                    raise
                missing.append(part)

    def delete_version(self, key: str, version_id: str) -> None:
        """Remove one version of the object for good (no delete marker is left, other versions
        stay); a version already removed answers the same."""
        with translated("delete_object"):
            aws.client("s3").delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)

    def version_of(self, key: str, *, etag: str | None) -> str | None:
        """The version id of the object under `key` while its content is still `etag`; None in
        a bucket without versioning, or when it was already replaced or is gone (a read by
        `etag` then says so)."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if etag:
            params["IfMatch"] = _quoted(etag)
        with translated("head_object"):
            try:
                answer = aws.client("s3").head_object(**params)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in _GONE_OR_REPLACED:
                    return None
                raise
        version = answer.get("VersionId")
        return None if version in (None, "null") else str(version)

    def size(self, key: str) -> int | None:
        """The object's size in bytes; None when there is no such object."""
        with translated("head_object"):
            try:
                answer = aws.client("s3").head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                    return None
                raise
        size: int = answer["ContentLength"]
        return size

    def link(self, key: str, *, seconds: int, file_name: str, content_type: str) -> str:
        """A link that downloads the object, valid for `seconds` (signed with this function's
        role, so it opens only what the role may read)."""
        link: str = aws.signing_client("s3").generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": f'attachment; filename="{file_name}"',
            },
            ExpiresIn=seconds,
        )
        return link

    def get_bytes(self, key: str, *, start: int = 0, length: int | None = None) -> bytes:
        """The object's content, or `length` bytes of it from byte `start`."""
        with self.open(key, start=start, length=length) as body:
            return body.read()

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))
