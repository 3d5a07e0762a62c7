"""API errors, rendered as Bento's ``ErrMsg`` JSON ``{type, msg}`` with its status codes."""

from __future__ import annotations


class ApiError(Exception):
    """An error answered to the client as ``{"type": type_name, "msg": msg}``."""

    status_code = 500
    type_name = "InternalErr"

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


class ImageInvalid(ApiError):
    status_code = 400
    type_name = "ImageInvalid"


class ImageIdMismatch(ApiError):
    status_code = 400
    type_name = "ImageIdMismatch"


class ImgAlreadyExists(ApiError):
    status_code = 204
    type_name = "ImgAlreadyExists"


class InputAlreadyExists(ApiError):
    status_code = 204
    type_name = "InputAlreadyExists"


class ReceiptAlreadyExists(ApiError):
    status_code = 204
    type_name = "ReceiptAlreadyExists"


class InvalidRequest(ApiError):
    status_code = 400
    type_name = "InvalidRequest"


class InvalidApiKey(ApiError):
    status_code = 400
    type_name = "InvalidApiKey"


class ReceiptInvalid(ApiError):
    status_code = 400
    type_name = "ReceiptInvalid"


class ImageMissing(ApiError):
    status_code = 404
    type_name = "ImageMissing"


class InputMissing(ApiError):
    status_code = 404
    type_name = "InputMissing"


class ReceiptMissing(ApiError):
    status_code = 404
    type_name = "ReceiptMissing"


class JournalMissing(ApiError):
    status_code = 404
    type_name = "JournalMissing"


class JobMissing(ApiError):
    status_code = 404
    type_name = "JobMissing"


class LogsMissing(ApiError):
    status_code = 404
    type_name = "LogsMissing"


class RouteMissing(ApiError):
    status_code = 404
    type_name = "NotFound"


class MethodNotAllowed(ApiError):
    status_code = 405
    type_name = "MethodNotAllowed"


class NotImplementedErr(ApiError):
    status_code = 501
    type_name = "NotImplemented"


class PayloadTooLarge(ApiError):
    status_code = 413
    type_name = "PayloadTooLarge"


class DbErr(ApiError):
    status_code = 503
    type_name = "DbErr"


class StorageErr(ApiError):
    status_code = 500
    type_name = "StorageErr"


class InternalErr(ApiError):
    status_code = 500
    type_name = "InternalErr"
