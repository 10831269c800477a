"""Make docs/screenshots/train_runs.png: the Train tab with a run just trained and two earlier runs of the same
pairs (other learning rates) overlaid on its loss and validation-PSNR plots, ticked in the runs list.

All three are tiny models trained from scratch (no quick calibrate, so the curves climb) on the pairs given, by
the same engine as `adkviewer train`; the runs go into a temporary output folder.

    QT_QPA_PLATFORM=offscreen python tools/train_runs_screenshot.py PAIRS [OUT.png]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

TINY = dict(width=8, gen_width=8, branch_width=8, hr_features=4, feat_blocks=1, gen_blocks=1)
RUN = dict(init="scratch", iterations=80, batch=4, patch=24, val_every=10, ckpt_every=40, device="cpu",
           calibrate_first=False)


def earlier_run(pairs: Path, out: Path, lr: float, seed: int) -> None:
    from adk_model.train import TrainConfig, Trainer

    t = Trainer(TrainConfig(pairs=str(pairs), lr=lr, warmup=10, seed=seed, out=str(out), model_overrides=dict(TINY),
                            **RUN))
    t.setup()
    t.run()
    t.export()


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    pairs = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "screenshots" / "train_runs.png"
    torch.set_num_threads(1)
    from adkviewer.gui.settings import Settings
    from adkviewer.shell.app import make_app
    from adkviewer.shell.main_window import MainWindow
    from adkviewer.tabs.train.train_state import TrainSettings

    app = make_app()
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "adkviewer-runs"
        for seed, lr in enumerate((1e-3, 6e-3), start=1):
            earlier_run(pairs, runs / f"{pairs.name}-x4-lr{lr:g}", lr, seed)
        win = MainWindow(Settings(memory=True))
        win.resize(1400, 900)
        win.show()
        win.show_tab("train")
        tab = win.tab("train")
        tab.ask = lambda text: True
        tab.set_form(TrainSettings(pairs=str(pairs), lr=3e-3, out_root=str(runs), model_overrides=dict(TINY), **RUN))
        tab.rescan()
        tab.start()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not (tab.runner.trainer is not None and tab.runner.trainer.finished
                                                    and not tab.runner.busy and len(tab.runs_panel.runs) == 3
                                                    and not tab.runs_panel.listing):
            app.processEvents()
            time.sleep(0.01)
        panel = tab.runs_panel
        for run in panel.runs:
            if "-lr" in run.name:
                panel.set_overlaid(run, True)
        tab.bottom_tabs.setCurrentWidget(panel)
        panel.select(next(r for r in panel.runs if "-lr" in r.name))
        for _ in range(50):
            app.processEvents()
            time.sleep(0.01)
        pix = win.grab()
        ok = pix.save(str(out), "PNG")
        win.close()
    print(f"wrote {out} ({pix.width()}x{pix.height()})" if ok else f"could not write {out}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
