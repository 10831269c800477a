"""ADK Viewer: the PySide6 + pyqtgraph application and the command line, over the Qt-free `adk_model`
(the folder model/)."""
