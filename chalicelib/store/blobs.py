"""The portfolio bucket behind a small interface."""

from __future__ import annotations

import io
import json
from typing import Any, BinaryIO

from chalicelib.config import get_settings
from chalicelib.errors import NotFound
from chalicelib.store import aws
from chalicelib.store.errors import translated


class Blobs:
    def __init__(self, bucket: str | None = None) -> None:
        self.bucket = bucket or get_settings().bucket_name

    def open(self, key: str, *, start: int = 0) -> BinaryIO:
        """A streaming body of the object from byte `start` (never read whole into memory)."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
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

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as body:
            return body.read()

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))
