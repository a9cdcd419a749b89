"""Data-parallel sparse fine-tuning over ``torch.distributed``, with one agreed mask.

Every rank holds the whole model and sees the same sequence of global batches
(the shuffling seed is shared); each rank computes the gradient of its share of
a batch's rows, and the engine sums the shares. Only the entries the mask
trains are communicated: a step all-reduces one flat buffer of the on-mask
gradient entries (the whole gradient of dense parameters), never the frozen
rest. A mask is selected identically on every rank from globally reduced
information (gathered per-sample losses, summed importance scores), and its
checksum is compared across ranks after every selection.

:class:`Communicator` wraps the default process group and counts the bytes
each rank contributes to the collectives, by purpose.
"""

import hashlib
import os

import numpy as np
import torch
import torch.distributed as dist

#: Flat gradient buffers are reduced in buckets of at most this many entries
#: (256 MiB of fp32), so a dense step does not double the gradient memory.
BUCKET_NUMEL = 1 << 26

_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def _launched_from_env():
    """Whether a launcher (torchrun, accelerate, srun + torchrun) set a world > 1."""
    return all(key in os.environ for key in _ENV) and int(os.environ["WORLD_SIZE"]) > 1


def init_from_env():
    """Initialize the default process group from the launcher's variables.

    The backend is NCCL when CUDA is available, else gloo; each rank uses
    ``cuda:LOCAL_RANK``. Does nothing if the group is already initialized.
    """
    if dist.is_initialized():
        return
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend=backend)


def resolve_communicator(distributed="auto"):
    """The :class:`Communicator` of a fit, or None for a single process.

    Parameters
    ----------
    distributed : {"auto", True, False}, default="auto"
        ``"auto"`` is data-parallel when the default process group is
        initialized with more than one rank, or when a launcher's environment
        (``RANK``, ``WORLD_SIZE`` > 1, ``MASTER_ADDR``, ``MASTER_PORT``) is
        set, in which case the group is initialized here (:func:`init_from_env`).
        True requires one of the two; False always trains alone.

    Returns
    -------
    Communicator or None
    """
    if distributed not in ("auto", True, False):
        raise ValueError(f"distributed must be 'auto', True or False; got {distributed!r}.")
    if distributed is False or not dist.is_available():
        if distributed is True:
            raise RuntimeError("distributed=True but torch.distributed is not available.")
        return None
    if not dist.is_initialized() and _launched_from_env():
        init_from_env()
    if not dist.is_initialized():
        if distributed is True:
            raise RuntimeError(
                "distributed=True but no process group: launch with torchrun or call "
                "torch.distributed.init_process_group first."
            )
        return None
    if dist.get_world_size() == 1 and distributed == "auto":
        return None
    return Communicator()


def mask_checksum(index, mask):
    """A 63-bit checksum of which entries a mask trains (names, states, indices).

    Parameters
    ----------
    index : ParameterIndex
    mask : ParameterMask

    Returns
    -------
    int
    """
    digest = hashlib.sha256()
    for name in index.names:
        state = mask.state(name)
        digest.update(f"{name}:{state};".encode())
        if state == "sparse":
            digest.update(mask.sparse[name].cpu().numpy().astype("<i4").tobytes())
    return int.from_bytes(digest.digest()[:8], "little") >> 1


class Communicator:
    """Collectives of a data-parallel fit on the default process group.

    Parameters
    ----------
    device : torch.device or str or None, default=None
        Where collective buffers live; None is the current CUDA device for
        NCCL (:func:`init_from_env` sets it to ``LOCAL_RANK``; a script that
        initializes the group itself calls ``torch.cuda.set_device``) and the
        CPU otherwise (gloo reduces CPU tensors).

    Attributes
    ----------
    rank, world_size : int
    backend : str
    bytes_ : dict
        Bytes this rank contributed to collectives, by purpose
        (``"gradients"``, ``"losses"``, ``"importance"``, ``"checksum"``,
        ``"setup"``); an all-gather counts the local share, an all-reduce or
        broadcast the whole buffer.
    """

    def __init__(self, device=None):
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.backend = str(dist.get_backend())
        if device is None:
            nccl = self.backend == "nccl"
            device = torch.device("cuda", torch.cuda.current_device()) if nccl else "cpu"
        self.device = torch.device(device)
        self.bytes_ = {}

    def total_bytes(self):
        """All bytes counted so far."""
        return sum(self.bytes_.values())

    def _count(self, purpose, tensor):
        nbytes = tensor.numel() * tensor.element_size()
        self.bytes_[purpose] = self.bytes_.get(purpose, 0) + nbytes

    def bounds(self, n):
        """``(start, stop)`` of this rank's contiguous share of ``n`` items.

        Shares differ in size by at most one (as ``numpy.array_split``); with
        fewer items than ranks, the last ranks get none.
        """
        sizes = [len(part) for part in np.array_split(np.arange(n), self.world_size)]
        start = sum(sizes[: self.rank])
        return start, start + sizes[self.rank]

    def shard(self, items):
        """This rank's share of a sequence (or of a tensor's rows)."""
        start, stop = self.bounds(len(items))
        return items[start:stop]

    def gather(self, local, n, purpose):
        """Concatenate every rank's share of ``n`` values (1-d), in rank order.

        Parameters
        ----------
        local : Tensor of shape (share,)
            This rank's values, its share of ``n`` as :meth:`shard` cuts it.
        n : int
            Number of values in all.
        purpose : str
            Key of :attr:`bytes_`.

        Returns
        -------
        Tensor of shape (n,)
            On the device of ``local``, fp32.
        """
        width = -(-n // self.world_size)
        buffer = torch.zeros(width, dtype=torch.float32, device=self.device)
        buffer[: len(local)] = local.detach().float().to(self.device)
        parts = [torch.empty_like(buffer) for _ in range(self.world_size)]
        dist.all_gather(parts, buffer)
        self._count(purpose, buffer)
        sizes = [len(part) for part in np.array_split(np.arange(n), self.world_size)]
        values = torch.cat([part[:size] for part, size in zip(parts, sizes)])
        return values.to(local.device)

    def all_reduce_(self, tensor, purpose):
        """Sum ``tensor`` over ranks, in place (through a buffer on :attr:`device`)."""
        buffer = tensor if tensor.device == self.device else tensor.to(self.device)
        dist.all_reduce(buffer)
        self._count(purpose, buffer)
        if buffer is not tensor:
            tensor.copy_(buffer)
        return tensor

    def broadcast_seed(self, seed):
        """Rank 0's ``seed`` on every rank."""
        value = torch.tensor([int(seed)], dtype=torch.int64, device=self.device)
        dist.broadcast(value, src=0)
        self._count("setup", value)
        return int(value.item())

    @torch.no_grad()
    def broadcast_module(self, module):
        """Copy rank 0's parameters and buffers to every rank (as DDP does).

        New parameters are initialized from each rank's own RNG; this makes
        every rank start from the same model.
        """
        for tensor in [*module.parameters(), *module.buffers()]:
            buffer = tensor.detach().to(self.device)
            dist.broadcast(buffer, src=0)
            self._count("setup", buffer)
            if buffer.data_ptr() != tensor.data_ptr():  # not broadcast in place
                tensor.copy_(buffer)

    @torch.no_grad()
    def sum_scores(self, scores, fallback=()):
        """Sum per-parameter score tensors over ranks, in place.

        Parameters
        ----------
        scores : dict
            Name to fp32 tensor, the same names and shapes on every rank.
        fallback : iterable of str, default=()
            Names this rank flagged; returned united over ranks.

        Returns
        -------
        fallback : set of str
        """
        names = list(scores)
        flagged = set(fallback)
        flags = torch.tensor([float(n in flagged) for n in names])
        segments = [(name, scores[name]) for name in names] + [(None, flags)]
        for bucket in _buckets(segments):
            flat = torch.cat([t.reshape(-1).float().to(self.device) for _, t in bucket])
            self.all_reduce_(flat, "importance")
            start = 0
            for _, tensor in bucket:
                tensor.copy_(flat[start : start + tensor.numel()].view_as(tensor))
                start += tensor.numel()
        return {name for name, flag in zip(names, flags.tolist()) if flag > 0}

    @torch.no_grad()
    def reduce_gradients(self, entries):
        """Sum the on-mask gradient entries over ranks; set them as ``.grad``.

        Parameters
        ----------
        entries : list of (Tensor, Tensor or None)
            Each trainable parameter with the flat indices of its on-mask
            entries (None: all of them). A gradient left None by every rank
            stays None, so the optimizer skips the parameter as it would alone.
        """
        present = torch.tensor([float(p.grad is not None) for p, _ in entries])
        values = []
        for param, idx in entries:
            size = param.numel() if idx is None else len(idx)
            if param.grad is None:
                values.append(torch.zeros(size, dtype=torch.float32))
            else:
                flat = param.grad.reshape(-1)
                values.append(flat if idx is None else flat[idx])
        segments = list(zip(range(len(entries)), values)) + [(None, present)]
        reduced = {}
        for bucket in _buckets(segments):
            flat = torch.cat([v.float().to(self.device) for _, v in bucket])
            self.all_reduce_(flat, "gradients")
            start = 0
            for key, value in bucket:
                reduced[key] = flat[start : start + value.numel()]
                start += value.numel()
        for i, (param, idx) in enumerate(entries):
            if reduced[None][i] == 0:
                param.grad = None
                continue
            summed = reduced[i].to(device=param.device, dtype=param.dtype)
            if idx is None:
                param.grad = summed.view_as(param).clone()
            else:
                grad = torch.zeros_like(param)
                grad.view(-1)[idx] = summed
                param.grad = grad

    def check_agreement(self, checksum, what="mask"):
        """Raise RuntimeError unless every rank passes the same checksum."""
        value = torch.tensor([int(checksum)], dtype=torch.int64, device=self.device)
        parts = [torch.empty_like(value) for _ in range(self.world_size)]
        dist.all_gather(parts, value)
        self._count("checksum", value)
        values = [int(part.item()) for part in parts]
        if len(set(values)) > 1:
            raise RuntimeError(
                f"The {what} differs across ranks (checksums by rank: {values}); every rank "
                "must select the same one. Check that all ranks run the same code, data, "
                "strategy and random_state."
            )


def _buckets(segments):
    """Consecutive runs of ``(key, tensor)`` pairs of at most :data:`BUCKET_NUMEL` entries."""
    bucket, size = [], 0
    for key, tensor in segments:
        if bucket and size + tensor.numel() > BUCKET_NUMEL:
            yield bucket
            bucket, size = [], 0
        bucket.append((key, tensor))
        size += tensor.numel()
    if bucket:
        yield bucket
