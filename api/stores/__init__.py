"""The SQL behind the API: one module per resource, plain functions of a session.

``api.database.Database`` runs them in a worker thread, each in one transaction. The
workflow owns every order status; stores write only what precedes a workflow (the submitted
order, free text people type) and the registries. They refuse with ``stores.errors``, never
with HTTP: ``api/errors.py`` gives each refusal its status.
"""
