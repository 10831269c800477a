"""`adkviewer import-weights`: a PyTorch state dict to safetensors, loaded with weights_only (no code runs)."""

from __future__ import annotations

import sys

from adkviewer.cli.checks import check_new_safetensors


def cmd_import_weights(args, argv) -> int:
    from adk_model.weights import import_torch_weights

    check_new_safetensors(args.out, args.overwrite, "imported weights are written as safetensors")
    path = import_torch_weights(args.input, args.out, args.preset, args.scale, overwrite=args.overwrite)
    print(f"wrote {path}", file=sys.stderr)
    return 0
