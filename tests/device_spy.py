"""A stand-in for a GPU without float64 (Apple's MPS), for CPU-only test machines.

Inside `DeviceSpy()`, torch.device("mps") works: a tensor sent there (`.to`, a factory's `device=`, a module's
`.to`) is computed on the CPU but marked as being on the device, reports that device, and passes the mark to
whatever is computed from it until it leaves with `.cpu()` / `.to("cpu")`. The spy records what MPS refuses:
a float64 tensor on the device (made there, converted there, or sent there), and `.numpy()` of a device tensor.
"""

from __future__ import annotations

import traceback

import torch
from torch.overrides import TorchFunctionMode

FAKE = torch.device("mps")
_MARK = "_device_spy_on_device"
_DEVICE_GET = torch.Tensor.device.__get__
_DATA_SET = torch.Tensor.data.__set__


def _on(t: object) -> bool:
    return isinstance(t, torch.Tensor) and getattr(t, _MARK, False)


def _mark(out: object, on: bool) -> None:
    if isinstance(out, torch.Tensor):
        setattr(out, _MARK, on)
    elif isinstance(out, (tuple, list)):
        for each in out:
            _mark(each, on)


def _tensors(obj: object):
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for each in obj:
            yield from _tensors(each)
    elif isinstance(obj, dict):
        for each in obj.values():
            yield from _tensors(each)


def _is_fake(dev: object) -> bool:
    return dev is not None and torch.device(dev).type == FAKE.type if isinstance(dev, (str, torch.device)) else False


class DeviceSpy(TorchFunctionMode):
    """Records, as `problems`, each place where code would put float64 on MPS or read a device tensor as NumPy."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.sent = 0  # tensors sent to the device: a run that sent none tested nothing

    def _record(self, what: str) -> None:
        here = [f for f in traceback.extract_stack() if "device_spy" not in f.filename and "/torch/" not in f.filename]
        where = f"{here[-1].filename.rsplit('/', 2)[-1]}:{here[-1].lineno}" if here else "?"
        self.problems.append(f"{what} at {where}")

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        name = getattr(func, "__name__", "")
        if func == _DEVICE_GET:  # a method-wrapper: a new object at each access, so ==, not is
            return FAKE if _on(args[0]) else func(*args, **kwargs)
        if func == _DATA_SET:  # Module.to(): param.data = the moved tensor
            func(*args, **kwargs)
            _mark(args[0], _on(args[1]))
            return None
        if name == "numpy" and _on(args[0]):
            self._record("numpy() of a device tensor")
        to_device = None  # True: the result is on the device; False: it leaves it; None: as its inputs
        if name == "to":
            dev, dtype, *_ = torch._C._nn._parse_to(*args[1:], **{k: v for k, v in kwargs.items() if k != "copy"})
            if _is_fake(dev):
                src = args[0]
                if src.dtype == torch.float64 and not _on(src):
                    self._record("a float64 tensor sent to the device")
                args = (src, *[torch.device("cpu") if _is_fake(a) else a for a in args[1:]])
                if "device" in kwargs:
                    kwargs["device"] = "cpu"
                kwargs["copy"] = not _on(src)
                to_device = True
                self.sent += 1
            elif dev is not None:
                to_device = False
        elif name == "cpu":
            to_device = False
        elif _is_fake(kwargs.get("device")):
            kwargs["device"] = "cpu"
            to_device = True
        elif name == "copy_" and _on(args[0]) and not _on(args[1]) and args[1].dtype == torch.float64:
            self._record("a float64 tensor copied to the device")
        out = func(*args, **kwargs)
        if to_device is False and out is args[0] and _on(out):
            out = out.clone()  # on the CPU .cpu() returns the tensor itself, which stays on the device
        if name.endswith("_") or name in ("__setitem__", "__set__"):
            return out  # in place: the target stays where it is
        on = to_device if to_device is not None else any(_on(t) for t in _tensors((args, kwargs)))
        if to_device is not None or on:
            _mark(out, on)
        if on and any(t.dtype == torch.float64 for t in _tensors(out)):
            self._record(f"a float64 tensor made on the device by {name or func}")
        return out
