from django import template

from atende.surveys.selectors import satisfaction_summary, survey_list_for_customer

register = template.Library()


@register.simple_tag
def customer_ratings(customer, limit: int = 10):
    """``{% customer_ratings customer as ratings %}``: the summary and the latest answered surveys."""
    return {"summary": satisfaction_summary(customer=customer),
            "latest": list(survey_list_for_customer(customer=customer)[:limit])}
