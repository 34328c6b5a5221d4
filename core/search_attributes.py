"""The search attributes orders carry in Temporal (ids and codes only, never personal data).

Workflows upsert them, the API sets them at start and admins filter on them in the Temporal
UI (``OrderStatus = "pending" AND Overdue = true``); ``core/temporal.py`` registers them.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

SA_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
SA_CATEGORY = SearchAttributeKey.for_keyword("ServiceCategory")
SA_TOWNSHIP = SearchAttributeKey.for_keyword("Township")
SA_OVERDUE = SearchAttributeKey.for_bool("Overdue")
SA_ESCALATION = SearchAttributeKey.for_int("EscalationLevel")
# The number people read aloud (digits only, ``26120457``): not personal, and what a caller
# gives an admin looking the order up in the Temporal UI (``OrderNumber = "26120457"``).
SA_NUMBER = SearchAttributeKey.for_keyword("OrderNumber")
SEARCH_ATTRIBUTES = (SA_STATUS, SA_CATEGORY, SA_TOWNSHIP, SA_OVERDUE, SA_ESCALATION, SA_NUMBER)
