"""The application shell: QApplication start-up, the main window with its menus, dialogs and banner."""
