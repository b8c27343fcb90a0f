"""Demo content for the console: the search index over the demo tickets (loaded with events suppressed) and a
couple of saved views for the demo agent. Idempotent."""

from atende.accounts.models import User
from atende.console.models import ListColumn, ListSort, SavedView
from atende.tickets.filters import TicketFilters
from atende.tickets.search import reindex_all


def load_demo() -> None:
    reindex_all()
    agent = User.objects.filter(email="agent@atende.test").first()
    if agent is None:
        return
    team = agent.teams.order_by("name").first()
    views = [
        ("VIP customers", team, {"tags": ["vip"], "status": ["unsolved"]}, ListSort.UPDATED_DESC),
        ("Urgent and high, oldest first", None, {"priority": ["urgent", "high"], "status": ["active"]},
         ListSort.CREATED_ASC),
    ]
    for name, shared_team, filters, sort in views:
        SavedView.objects.get_or_create(owner=agent, name=name, defaults={
            "team": shared_team, "filters": TicketFilters.from_dict(filters).to_dict(), "sort": sort,
            "columns": [ListColumn.NUMBER, ListColumn.SUBJECT, ListColumn.REQUESTER, ListColumn.STATUS,
                        ListColumn.PRIORITY, ListColumn.TAGS, ListColumn.UPDATED],
        })
