"""Request/response bodies of the Bonsai-compatible API (``bonsai_sdk::responses``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class UploadRes(BaseModel):
    url: str
    uuid: str


class ImgUploadRes(BaseModel):
    url: str


class ProofReq(BaseModel):
    img: str = Field(description="image id (hex) of an uploaded ELF")
    input: str = Field(description="uuid of an uploaded input")
    assumptions: list[str] = Field(default_factory=list, description="receipt uuids")
    execute_only: bool = False
    exec_cycle_limit: int | None = Field(
        default=None, ge=1, description="execution limit in Mcycles (x 2^20)"
    )


class CreateSessRes(BaseModel):
    uuid: str


class SessionStats(BaseModel):
    segments: int
    total_cycles: int
    cycles: int


class SessionStatusRes(BaseModel):
    status: str
    receipt_url: str | None = None
    error_msg: str | None = None
    state: str | None = None
    elapsed_time: float | None = None
    stats: SessionStats | None = None


class ReceiptDownload(BaseModel):
    url: str


class Quotas(BaseModel):
    exec_cycle_limit: int
    concurrent_proofs: int
    cycle_budget: int
    cycle_usage: int
    dedicated_executor: int
    dedicated_gpu: int


class VersionInfo(BaseModel):
    risc0_zkvm: list[str]
    proofmarket: str


class ErrMsg(BaseModel):
    type: str
    msg: str
