"""Qt-free core of ADK Viewer: ADK-Net, kernel application, baselines, metrics, data, training and weight I/O."""
