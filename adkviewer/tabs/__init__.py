"""One folder per tab: its Qt-free `<tab>_state.py` beside its view `<tab>_tab.py`; tabs never import each other."""
