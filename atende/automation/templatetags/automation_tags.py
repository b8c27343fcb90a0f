from django import template

from atende.accounts.choices import Availability
from atende.automation.selectors import macro_list_for_user

register = template.Library()


@register.simple_tag
def macros_for(user):
    """Macros the user may apply (shared ones and their own): what the menu shows of them (their actions, a JSON
    list, are read when one is applied)."""
    return list(macro_list_for_user(user=user).only("id", "name", "owner_id", "reply_text"))


@register.simple_tag
def availability_choices():
    return Availability.choices
