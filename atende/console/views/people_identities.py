"""A customer's contact identities (add, remove) and merging two customers, from the customer's profile."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.accounts.choices import IdentityKind
from atende.accounts.identities import customer_merge, identity_add, identity_remove
from atende.accounts.models import User
from atende.accounts.selectors import access_customer, access_identity, customer_for_identity
from atende.console.forms_workspace import CustomerMergeForm, IdentityAddForm
from atende.console.views._common import console_view
from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound


def _customer(request, id: int) -> User:
    try:
        customer = access_customer(user=request.user, customer_id=id)
    except NotFound:
        raise Http404
    if not customer.is_customer:
        raise Http404
    return customer


@require_POST
@console_view(agents_only=True)
def identity_add_view(request, id: int):
    customer = _customer(request, id)
    form = IdentityAddForm(request.POST)
    if not form.is_valid():
        flash.error(request, _("Choose a kind and type the address, number or handle."))
    else:
        try:
            identity_add(customer=customer, kind=form.cleaned_data["kind"], value=form.cleaned_data["value"],
                         actor=Actor.for_user(request.user))
        except DomainError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, _("Identity added."))
    return redirect("console:customer", id=customer.pk)


@require_POST
@console_view(agents_only=True)
def identity_remove_view(request, id: int, identity_id: int):
    customer = _customer(request, id)
    try:
        identity = access_identity(user=request.user, identity_id=identity_id)
    except NotFound:
        raise Http404
    if identity.customer_id != customer.pk:
        raise Http404
    try:
        identity_remove(identity=identity, actor=Actor.for_user(request.user))
    except DomainError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(request, _("Identity removed."))
    return redirect("console:customer", id=customer.pk)


def _find_other(request, text: str) -> User | None:
    text = text.strip()
    if text.lstrip("#").isdigit() and text.startswith("#"):
        try:
            other = access_customer(user=request.user, customer_id=int(text[1:]))
        except NotFound:
            return None
        return other if other.is_customer else None
    kind = IdentityKind.EMAIL if "@" in text else IdentityKind.PHONE
    return customer_for_identity(kind=kind, value=text)


@console_view(agents_only=True)
def customer_merge_view(request, id: int):
    """Step 1 (GET ?other=…): name the duplicate, see both side by side. Step 2 (POST confirm): merge the other
    customer into this one, which survives."""
    customer = _customer(request, id)
    form = CustomerMergeForm(request.POST or request.GET or None)
    other = None
    if form.is_bound and form.is_valid():
        other = _find_other(request, form.cleaned_data["other"])
        if other is None or not other.is_customer or other.pk == customer.pk or not other.is_active:
            form.add_error("other", _("No other active customer has this address, number or id."))
            other = None
    if request.method == "POST" and other is not None and request.POST.get("confirm") == "yes":
        try:
            customer_merge(source=other, target=customer, actor=Actor.for_user(request.user))
        except DomainError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, _("%(other)s was merged into this customer.") % {"other": other.display_name})
            return redirect("console:customer", id=customer.pk)
    context = {"person": customer, "other": other, "form": form,
               "other_tickets": other.requested_tickets.count() if other else 0,
               "other_identities": list(other.identities.all()) if other else []}
    return render(request, "console/people_merge.html", context)
