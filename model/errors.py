"""User-facing error types: their message is shown as-is by the CLI and the GUI."""


class UserError(ValueError):
    """An error caused by the user's input, with a one-sentence message meant for people."""


class ImageLoadError(UserError):
    """An image file could not be read or is not usable."""


class PairError(UserError):
    """A pairs folder or split file is not usable."""


class WeightsError(UserError):
    """A weights file is unreadable, unsafe, or for another architecture or scale."""


def out_of_memory(exc: BaseException) -> bool:
    """MemoryError, or the RuntimeError torch's allocators raise (CPU: "can't allocate memory"; CUDA/MPS: "out of
    memory"), which no MemoryError handler catches."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)
