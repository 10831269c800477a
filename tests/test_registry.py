"""One method registry (adk_model.methods.METHODS) and one list of devices and presets, read by the CLI and the GUI."""

from __future__ import annotations

from adkviewer.cli.args import build_gui_parser, build_parser
from adkviewer.tabs.train import train_state
from adk_model.adknet import PRESETS
from adk_model.baselines import CLASSICAL
from adk_model.devices import CHOICES
from adk_model.methods import ALL_METHODS, LABELS, METHODS, RUN_ORDER, SHORT_LABELS, TITLES


def _sub(parser, sub: str):
    return next(a for a in parser._actions if a.dest == "cmd").choices[sub]


def _action(parser, dest: str):
    return next(a for a in parser._actions if a.dest == dest)


def _choices(parser, dest: str, sub: str | None = None) -> list:
    return list(_action(_sub(parser, sub) if sub is not None else parser, dest).choices)


def test_the_registry_lists_every_method_once_with_what_it_needs():
    assert ALL_METHODS == ("adknet", *CLASSICAL, "lstsq")
    assert {m: i.needs for m, i in METHODS.items() if i.needs} == {"adknet": "weights", "lstsq": "fit"}
    assert set(LABELS) == set(TITLES) == set(ALL_METHODS) and set(SHORT_LABELS) == {"gt", *ALL_METHODS}
    assert sorted(RUN_ORDER) == sorted(ALL_METHODS) and RUN_ORDER[0] == "adknet"  # the headline first
    assert RUN_ORDER[-1] == "lstsq" and {m for m, i in METHODS.items() if i.beside} == set(CLASSICAL)


def test_cli_and_train_tab_take_methods_devices_and_presets_from_model():
    p = build_parser()
    assert _choices(p, "method", "downscale") == list(ALL_METHODS)
    assert _choices(p, "methods", "eval") == list(ALL_METHODS)
    for parser in (*(_sub(p, sub) for sub in ("downscale", "eval", "train")), build_gui_parser()):
        device = _action(parser, "device")  # a type that checks against adk_model's names (cuda:N too)
        assert [device.type(name) for name in CHOICES] == list(CHOICES) and device.type("cuda:1") == "cuda:1"
        assert all(name in device.help for name in CHOICES)
    assert _choices(p, "preset", "train") == _choices(p, "preset", "import-weights") == list(PRESETS)
    assert train_state.PRESETS == tuple(PRESETS) and train_state.DEVICES == CHOICES
