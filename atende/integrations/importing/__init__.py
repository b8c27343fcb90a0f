"""Reading import files (CSV, Atende JSON / JSON lines, Zendesk exports) into plain records.

The readers only parse; ``integrations.services.importing`` writes, through the same services as every channel.
"""

from atende.integrations.importing.readers import read_import_file
from atende.integrations.importing.records import ImportBatch, MessageRecord, OrgRecord, PersonRecord, TicketRecord

__all__ = ["ImportBatch", "MessageRecord", "OrgRecord", "PersonRecord", "TicketRecord", "read_import_file"]
