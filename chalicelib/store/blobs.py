"""The portfolio bucket behind a small interface."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from typing import Any, BinaryIO, Final

from botocore.exceptions import ClientError

from chalicelib.config import get_settings
from chalicelib.errors import NotFound
from chalicelib.store import aws
from chalicelib.store.errors import translated

# S3 takes parts of 5 MiB or more (but the last); larger parts mean fewer requests.
UPLOAD_PART_BYTES: Final = 8 * 1024 * 1024


class Blobs:
    def __init__(self, bucket: str | None = None) -> None:
        self.bucket = bucket or get_settings().bucket_name

    def open(self, key: str, *, start: int = 0, version_id: str | None = None) -> BinaryIO:
        """A streaming body of the object (of its version `version_id`, else the latest) from
        byte `start` (never read whole into memory)."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        if start:
            params["Range"] = f"bytes={start}-"
        try:
            with translated("get_object"):
                response = aws.client("s3").get_object(**params)
        except Exception as exc:
            if start and "InvalidRange" in str(exc):
                # Resuming exactly at the end of the object: nothing is left to read.
                return io.BytesIO(b"")
            if "NoSuchKey" in str(exc):
                raise NotFound(f"object {key} not found") from exc
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
        self, key: str, head: bytes, parts: Sequence[str], *, content_type: str
    ) -> None:
        """Write `head` followed by the objects `parts`, in order, as the object `key`: one
        PutObject when it stays small, else a multipart upload of parts of at least
        `UPLOAD_PART_BYTES`; never more than one such part in memory."""
        s3 = aws.client("s3")
        pending = bytearray(head)
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
            for part in parts:
                pending += self.get_bytes(part)
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
                return
            if pending:
                upload_pending()
            with translated("complete_multipart_upload"):
                s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": uploaded},
                )
        except Exception:
            if upload_id is not None:
                # If this fails too, the bucket's lifecycle aborts the upload after a week.
                with contextlib.suppress(Exception):
                    s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

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

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as body:
            return body.read()

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))
