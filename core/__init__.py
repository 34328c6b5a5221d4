"""Code shared by the API, the activities and the worker: settings, models, the catalog."""
