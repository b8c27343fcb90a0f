from django import template

from atende.accounts.choices import Availability
from atende.automation.selectors import macro_menu_for_user

register = template.Library()


@register.simple_tag
def macros_for(user):
    """Macros the user may apply (shared ones and their own): what the menu shows of them (their actions, a JSON
    list, are read when one is applied, and the macro checked again then)."""
    return macro_menu_for_user(user=user)


@register.simple_tag
def availability_choices():
    return Availability.choices
