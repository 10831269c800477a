"""Make docs/screenshots/train.png: the Train tab mid-run, on pairs cut from the bundled demo photo.

The pairs are generated in a temporary folder (HR tiles of resources/demo/astronaut.png; LR = box downscale
with a camera-like colour response and tone curve), one pair is deliberately broken so the table shows a
named problem, and a tiny model trains from scratch so the curves fill in within seconds.

    QT_QPA_PLATFORM=offscreen python tools/train_screenshot.py [OUT.png]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

TINY = dict(width=8, gen_width=8, branch_width=8, hr_features=4, feat_blocks=1, gen_blocks=1)
MIX = np.array([[0.86, 0.10, 0.00], [0.04, 0.88, 0.06], [0.00, 0.12, 0.80]], np.float32)


def make_pairs(folder: Path, scale: int = 4, tile: int = 96, n: int = 14, seed: int = 0) -> Path:
    """HR tiles of the demo photo and 'camera' LRs (box, colour mix + bias, mild tone curve); 2 for validation."""
    demo = np.asarray(Image.open(ROOT / "resources" / "demo" / "astronaut.png").convert("RGB"), np.float32) / 255
    rng = np.random.default_rng(seed)
    names = []
    for i in range(n):
        y, x = (int(v) for v in rng.integers(0, np.array(demo.shape[:2]) - tile, size=2))
        hr = demo[y:y + tile, x:x + tile]
        lr = hr.reshape(tile // scale, scale, tile // scale, scale, 3).mean(axis=(1, 3))
        lr = np.clip(lr @ MIX.T + [0.03, 0.0, -0.02], 0, 1) ** 0.9
        name = f"tile{i:02d}"
        names.append(name)
        for sub, arr in (("HR", hr), ("LR", lr)):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.rint(arr * 255).astype(np.uint8)).save(folder / sub / f"{name}.png")
    # one broken pair, so the table shows how a problem is named
    Image.fromarray(np.zeros((tile, tile, 3), np.uint8)).save(folder / "HR" / "zz_wrong_size.png")
    Image.fromarray(np.zeros((tile // 2, tile // 2, 3), np.uint8)).save(folder / "LR" / "zz_wrong_size.png")
    (folder / "split.json").write_text(json.dumps({"scale": scale, "train": names[:-2], "val": names[-2:]}))
    return folder


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots" / "train.png"
    torch.set_num_threads(1)
    torch.manual_seed(0)
    from adkviewer.shell.app import make_app
    from adkviewer.shell.main_window import MainWindow
    from adkviewer.gui.settings import Settings
    from adkviewer.tabs.train.train_state import TrainSettings

    app = make_app()
    with tempfile.TemporaryDirectory() as tmp:
        pairs = make_pairs(Path(tmp) / "demo_pairs")
        win = MainWindow(Settings(memory=True))
        win.resize(1280, 800)
        win.show()
        win.show_tab("train")
        tab = win.tab("train")
        tab.ask = lambda text: True
        tab.set_form(TrainSettings(pairs=str(pairs), init="scratch", iterations=400, batch=4, patch=12, lr=3e-3,
                                   val_every=25, ckpt_every=100, device="cpu", out_root=str(Path(tmp) / "runs"),
                                   model_overrides=TINY))
        tab.rescan()
        from adk_model.train import Trainer

        step = Trainer.step

        def slow_step(self):  # a tiny model steps in ~1 ms; pace it like a real run so the ETA reads sensibly
            time.sleep(0.02)
            return step(self)

        Trainer.step = slow_step
        tab.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
            t = tab.runner.trainer
            if t is not None and t.iteration >= 260 and set(tab.curves.refs) == {"bicubic", "lstsq"}:
                break
        for _ in range(30):
            app.processEvents()
            time.sleep(0.01)
        pix = win.grab()
        ok = pix.save(str(out), "PNG")
        tab.runner.shutdown(30)
        win.close()
    print(f"wrote {out} ({pix.width()}x{pix.height()})" if ok else f"could not write {out}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
