from django.shortcuts import render

from atende.kb.selectors import category_list_for_user, popular_articles
from atende.portal.selectors import portal_ticket_list


def home(request):
    """Search the knowledge base, submit a request, and (logged in) the latest requests."""
    recent = []
    if request.user.is_authenticated and request.user.is_customer and request.user.email_verified:
        recent = list(portal_ticket_list(user=request.user).order_by("-updated_at", "-id")[:5])
    return render(request, "portal/home.html", {
        "categories": category_list_for_user(user=request.user),
        "popular": popular_articles(user=request.user, limit=5),
        "recent": recent,
    })
