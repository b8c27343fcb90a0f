"""The ticket workspace, ticket creation, phone calls, and customer/organisation profiles."""

from django.urls import path

from atende.console.views import notifications, people, people_identities, ticket, ticket_actions, ticket_create

urlpatterns = [
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/bell/", notifications.notification_bell, name="notification_bell"),
    path("notifications/read/", notifications.notification_read, name="notifications_read"),
    path("notifications/<int:notification_id>/read/", notifications.notification_read, name="notification_read"),
    path("mentions/agents/", notifications.mention_agents, name="mention_agents"),
    path("tickets/new/", ticket_create.ticket_new, name="ticket_new"),
    path("calls/new/", ticket_create.phone_call, name="phone_call"),
    path("tickets/<int:number>/", ticket.ticket_detail, name="ticket"),
    path("tickets/<int:number>/timeline/", ticket.ticket_timeline, name="ticket_timeline"),
    path("tickets/<int:number>/panel/", ticket.ticket_panel, name="ticket_panel"),
    path("tickets/<int:number>/related/", ticket.ticket_related, name="ticket_related"),
    path("tickets/<int:number>/reply/", ticket_actions.ticket_reply, name="ticket_reply"),
    path("tickets/<int:number>/fields/", ticket_actions.ticket_fields, name="ticket_fields"),
    path("tickets/<int:number>/assign-to-me/", ticket_actions.ticket_assign_me, name="ticket_assign_me"),
    path("tickets/<int:number>/followers/", ticket_actions.ticket_followers, name="ticket_followers"),
    path("tickets/<int:number>/links/", ticket_actions.ticket_links, name="ticket_links"),
    path("tickets/<int:number>/merge/", ticket_actions.ticket_merge_into, name="ticket_merge"),
    path("customers/<int:id>/", people.customer_profile, name="customer"),
    path("customers/<int:id>/notes/", people.customer_notes, name="customer_notes"),
    path("customers/<int:id>/identities/", people_identities.identity_add_view, name="customer_identity_add"),
    path("customers/<int:id>/identities/<int:identity_id>/remove/", people_identities.identity_remove_view,
         name="customer_identity_remove"),
    path("customers/<int:id>/merge/", people_identities.customer_merge_view, name="customer_merge"),
    path("organizations/<int:id>/", people.organization_profile, name="organization"),
]
