"""Multi-process decoding under ``torchrun``: ranks, batch sharding, barriers, determinism.

``torchrun --nproc_per_node N -m paradec decode ...`` starts N processes with RANK,
WORLD_SIZE and LOCAL_RANK in the environment. :func:`from_env` reads them; with N > 1
:meth:`World.init` opens a ``torch.distributed`` process group (gloo on CPU, nccl on CUDA)
used only for barriers: the processes share nothing but the file system. Batch ``b`` (of
``batch_size`` prompts, in prompt order) belongs to rank ``b mod N`` (:meth:`World.mine`),
so each batch is decoded with exactly the composition a single-process run gives it and
the merged trace equals the single-process trace row for row.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

__all__ = ["World", "from_env", "rank_trace_path", "set_deterministic"]


@dataclass(frozen=True)
class World:
    """This process's place among ``size`` decode processes (``size`` 1: no torchrun)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    def __post_init__(self) -> None:
        if self.size < 1 or not 0 <= self.rank < self.size or self.local_rank < 0:
            raise ValueError(f"bad process layout rank {self.rank} of world size {self.size} "
                             f"(local rank {self.local_rank})")

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def device(self, requested: str) -> str:
        """``cuda`` becomes ``cuda:LOCAL_RANK`` (one GPU per process); others unchanged."""
        if self.distributed and requested == "cuda":
            return f"cuda:{self.local_rank}"
        return requested

    def mine(self, n_batches: int) -> list[int]:
        """Batch indices this rank decodes: b with b mod size == rank."""
        return [b for b in range(n_batches) if b % self.size == self.rank]

    def init(self, device: str) -> None:
        """Open the process group (gloo for CPU, nccl for CUDA) when distributed."""
        if not self.distributed or torch.distributed.is_initialized():
            return
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(self.local_rank)
        torch.distributed.init_process_group(backend=backend, rank=self.rank,
                                             world_size=self.size)

    def barrier(self) -> None:
        if self.distributed and torch.distributed.is_initialized():
            if torch.distributed.get_backend() == "nccl":
                torch.distributed.barrier(device_ids=[self.local_rank])
            else:
                torch.distributed.barrier()

    def close(self) -> None:
        if self.distributed and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def from_env() -> World:
    """The layout torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK); a single process else."""
    def get(name: str, default: int) -> int:
        value = os.environ.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"environment variable {name}={value!r} is not an integer"
                             ) from None

    return World(rank=get("RANK", 0), size=get("WORLD_SIZE", 1),
                 local_rank=get("LOCAL_RANK", 0))


def rank_trace_path(out: str, world: World) -> str:
    """Where rank ``world.rank`` writes its own trace: ``OUT.rankRofN.parquet``."""
    if not out.endswith(".parquet"):
        raise ValueError(f"trace path {out} must end in .parquet")
    return f"{out[:-len('.parquet')]}.rank{world.rank}of{world.size}.parquet"


def set_deterministic() -> dict[str, object]:
    """Ask torch for bit-reproducible kernels (docs/reliability.md) and return what was
    set: deterministic algorithms (error on a kernel without a deterministic version),
    CUBLAS_WORKSPACE_CONFIG=:4096:8 (needed by cuBLAS; set before CUDA starts), TF32 off
    for matmul and cuDNN, cuDNN deterministic and not benchmarking."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.set_float32_matmul_precision("highest")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return {"use_deterministic_algorithms": True,
            "CUBLAS_WORKSPACE_CONFIG": os.environ["CUBLAS_WORKSPACE_CONFIG"],
            "allow_tf32": False, "cudnn_deterministic": True, "cudnn_benchmark": False}
